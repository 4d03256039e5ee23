import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  generateKeyPair,
  keyFingerprint,
  type PassportPayload,
  SEALING_ALGORITHM,
  SIGNING_ALGORITHM,
  sealSecret,
  signPassport,
} from "../../../shared/passport/index.ts";
import { PassportStore } from "./passport-store.ts";

const RACK_KEY = "SHA256:1111111111111111111111111111111111111111111111111111111111111111";

async function cluster() {
  const pair = await generateKeyPair(SIGNING_ALGORITHM);
  return { ...pair, pinned: { key: pair.publicKey, fingerprint: await keyFingerprint(pair.publicRaw) } };
}

async function passport(overrides: Partial<PassportPayload> = {}): Promise<PassportPayload> {
  const sealing = await generateKeyPair(SEALING_ALGORITHM);
  return {
    version: 1,
    rack_id: "0190a4c2-7d3e-7b1a-8c4d-2e5f6a7b8c9d",
    name: "rack-nyc-01",
    mixer_id: "0190a4c2-0000-7000-8000-000000000001",
    status: "active",
    issued_at: 1_790_000_000_000,
    rack_key: RACK_KEY,
    config: {},
    secrets: { hsm_pin: await sealSecret(sealing.publicRaw, "hsm_pin", "plain-text-pin-4711") },
    ...overrides,
  };
}

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
    expect(onDisk).not.toContain("plain-text-pin-4711");
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
