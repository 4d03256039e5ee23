import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type PassportPayload, signPassport } from "../../../shared/passport/index.ts";
import {
  testCluster as cluster,
  TEST_SECRET_VALUE,
  testPassport,
} from "../../../test/helpers/passport-fixtures.ts";
import { PassportStore } from "./passport-store.ts";

const RACK_KEY = "SHA256:1111111111111111111111111111111111111111111111111111111111111111";

const passport = (overrides: Partial<PassportPayload> = {}) =>
  testPassport({ rack_key: RACK_KEY, ...overrides });

describe("the passport file", () => {
  let dir: string;
  let store: PassportStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-passport-"));
    store = new PassportStore(dir, "rack.flux", RACK_KEY);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("round-trips, mode 0600, with its secrets only as ciphertext on disk", async () => {
    const key = await cluster();
    expect(await store.load(key.pinned)).toBeUndefined();
    const saved = await store.save(await signPassport(await passport(), key.privateKey), key.pinned);
    expect(await store.load(key.pinned)).toEqual(saved);
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
    const onDisk = await readFile(store.path, "latin1");
    expect(onDisk).toContain("rack-nyc-01");
    expect(onDisk).not.toContain(TEST_SECRET_VALUE);
  });

  it("refuses a truncated passport and keeps the last good one", async () => {
    const key = await cluster();
    const good = await store.save(await signPassport(await passport(), key.privateKey), key.pinned);
    const newer = await signPassport(await passport({ issued_at: good.issued_at + 1 }), key.privateKey);
    await expect(store.save(newer.subarray(0, newer.length - 7), key.pinned, good)).rejects.toThrow(
      /truncated or corrupted/,
    );
    expect(await store.load(key.pinned)).toEqual(good);

    // A file cut short on disk is refused by name.
    await writeFile(store.path, newer.subarray(0, 20));
    await expect(store.load(key.pinned)).rejects.toThrow(
      `${store.path}: the passport envelope is not valid CBOR`,
    );
  });

  it("refuses another cluster's passport, another rack's, and an older one replayed", async () => {
    const key = await cluster();
    const good = await store.save(await signPassport(await passport(), key.privateKey), key.pinned);
    const other = await cluster();
    await expect(
      store.save(
        await signPassport(await passport({ issued_at: good.issued_at + 1 }), other.privateKey),
        key.pinned,
        good,
      ),
    ).rejects.toThrow(`does not verify against the pinned cluster key ${key.pinned.fingerprint}`);
    const otherRack = await passport({ issued_at: good.issued_at + 1, rack_key: `SHA256:${"2".repeat(64)}` });
    await expect(store.save(await signPassport(otherRack, key.privateKey), key.pinned, good)).rejects.toThrow(
      `the passport is for the rack with key SHA256:${"2".repeat(64)}, and this rack's key is ${RACK_KEY}`,
    );
    const suspended = await store.save(
      await signPassport(
        await passport({ issued_at: good.issued_at + 2, status: "suspended" }),
        key.privateKey,
      ),
      key.pinned,
      good,
    );
    await expect(
      store.save(await signPassport(await passport(), key.privateKey), key.pinned, suspended),
    ).rejects.toThrow(/before the one held .*: an old passport replayed/);
    expect((await store.load(key.pinned))?.status).toBe("suspended");
  });
});
