import { describe, expect, it } from "vitest";
import { mixerEnv, testRack, verifyWithPublishedKey } from "../../test-helpers/test-rack.ts";
import { issueRackPassport } from "./rack-passport.ts";
import { blobBytes } from "./rack-row.ts";
import { findRack, storePassport, updateStatus } from "./racks.ts";

describe("rack passports", () => {
  it("store none signed from a row that changed meanwhile, and sign the change when issued again", async () => {
    const rack = await testRack("rack-snapshot");
    const reply = await rack.enroll();
    if (!reply.ok) throw new Error(reply.error);
    const id = (await verifyWithPublishedKey(reply.passport, reply.cluster_key)).rack_id;
    const read = await findRack(mixerEnv.REGISTRY, "id", id);
    if (!read) throw new Error(`no rack ${id}`);
    // An approval lands between the read and the store of a passport signed from that read.
    await updateStatus(mixerEnv.REGISTRY, id, "pending", "active", Date.now());
    const stale = new Uint8Array([1, 2, 3]);
    expect(await storePassport(mixerEnv.REGISTRY, id, read.revision, stale, Date.now() + 60_000)).toBe(false);
    expect(blobBytes((await findRack(mixerEnv.REGISTRY, "id", id))?.passport ?? null)).toEqual(
      blobBytes(read.passport),
    );
    const issued = await issueRackPassport(mixerEnv, id);
    expect((await verifyWithPublishedKey(issued, reply.cluster_key)).status).toBe("active");
  });
});
