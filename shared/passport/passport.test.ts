import { describe, expect, it } from "vitest";
import {
  testCluster as cluster,
  testPassport as payload,
  TEST_SECRET_VALUE,
} from "../../test/helpers/passport-fixtures.ts";
import { cbor } from "../fluxmsg/cbor.ts";
import { signEnvelope } from "./envelope.ts";
import { generateKeyPair, SIGNING_ALGORITHM } from "./keys.ts";
import { PassportError, signPassport, verifyPassport } from "./passport.ts";

describe("passport", () => {
  it("round-trips: what the cluster key signs, the pinned key verifies", async () => {
    const key = await cluster();
    const body = await payload();
    const bytes = await signPassport(body, key.privateKey);
    expect(await verifyPassport(bytes, key.pinned)).toEqual(body);
  });

  it("refuses a passport with any one byte flipped", async () => {
    const key = await cluster();
    const bytes = await signPassport(await payload(), key.privateKey);
    // Every position: envelope framing, payload (status, name, sealed secrets) and signature alike.
    for (let i = 0; i < bytes.length; i++) {
      const tampered = bytes.slice();
      tampered[i] = (tampered[i] as number) ^ 0x01;
      await expect(verifyPassport(tampered, key.pinned), `byte ${i}`).rejects.toBeInstanceOf(PassportError);
    }
  });

  it("refuses a passport signed by another cluster, naming the pinned key", async () => {
    const ours = await cluster();
    const theirs = await cluster();
    const bytes = await signPassport(await payload(), theirs.privateKey);
    await expect(verifyPassport(bytes, ours.pinned)).rejects.toThrow(
      `the passport signature does not verify against the pinned cluster key ${ours.pinned.fingerprint}`,
    );
  });

  it("refuses a forgery that carries the attacker's own key inside, in the payload or beside it", async () => {
    const ours = await cluster();
    const attacker = await generateKeyPair(SIGNING_ALGORITHM);
    const forged = { ...(await payload({ status: "active" })), cluster_key: attacker.publicRaw };
    const inPayload = await signEnvelope("passport", forged, attacker.privateKey);
    await expect(verifyPassport(inPayload, ours.pinned)).rejects.toThrow(
      /does not verify against the pinned/,
    );

    // A genuine passport whose envelope gains a `key` field is no longer the envelope we read.
    const genuine = cbor.decode(await signPassport(await payload(), ours.privateKey)) as Record<
      string,
      unknown
    >;
    const beside = cbor.encode({ ...genuine, key: attacker.publicRaw });
    await expect(verifyPassport(beside, ours.pinned)).rejects.toThrow(
      "the passport envelope is not a CBOR map of exactly {payload: bytes, signature: bytes}",
    );
  });

  it("refuses a truncated passport as corrupted", async () => {
    const key = await cluster();
    const bytes = await signPassport(await payload(), key.privateKey);
    for (const length of [0, 1, 40, bytes.length - 1]) {
      await expect(verifyPassport(bytes.slice(0, length), key.pinned)).rejects.toThrow(
        /not valid CBOR \(truncated or corrupted\)/,
      );
    }
  });

  it("refuses a genuine signature over a passport of an unknown version", async () => {
    const key = await cluster();
    const future = await signEnvelope("passport", { ...(await payload()), version: 2 }, key.privateKey);
    await expect(verifyPassport(future, key.pinned)).rejects.toThrow(
      "passport version 2 is not supported (this rack reads version 1; upgrade the rack)",
    );
  });

  it("refuses a signature made for another purpose with the same key (a heartbeat is not a passport)", async () => {
    const key = await cluster();
    const heartbeat = await signEnvelope("heartbeat", await payload(), key.privateKey);
    await expect(verifyPassport(heartbeat, key.pinned)).rejects.toThrow(/signature does not verify/);
  });

  it("holds sealed secrets only as ciphertext", async () => {
    const key = await cluster();
    const bytes = await signPassport(await payload(), key.privateKey);
    expect(new TextDecoder("latin1").decode(bytes)).not.toContain(TEST_SECRET_VALUE);
  });
});
