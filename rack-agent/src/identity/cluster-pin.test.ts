import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { generateKeyPair, keyFingerprint, SIGNING_ALGORITHM } from "../../../shared/passport/index.ts";
import { ClusterPin } from "./cluster-pin.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-pin-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const MIXER_ID = "0190a4c2-0000-7000-8000-000000000001";

it("trusts the first cluster key it meets, says so with how to pin it, then refuses any other", async () => {
  const cluster = await generateKeyPair(SIGNING_ALGORITHM);
  const fingerprint = await keyFingerprint(cluster.publicRaw);
  const first = await ClusterPin.load(dir, "");
  expect(first.key).toBeUndefined();
  const warnings: string[] = [];
  await first.save(await first.accept(cluster.publicRaw), MIXER_ID, (w) => warnings.push(w));
  expect(warnings).toEqual([
    expect.stringMatching(
      new RegExp(
        `^trusting cluster key ${fingerprint} on first use \\(rack\\.cluster_key_fingerprint is empty\\), ` +
          `pinned in ${dir}/cluster\\.pub: .*FLUXRIG_RACK_CLUSTER_KEY_FINGERPRINT=${fingerprint}`,
      ),
    ),
  ]);

  const later = await ClusterPin.load(dir, "");
  expect(later.key?.fingerprint).toBe(fingerprint);
  const impostor = await generateKeyPair(SIGNING_ALGORITHM);
  const presented = await keyFingerprint(impostor.publicRaw);
  await expect(later.accept(impostor.publicRaw)).rejects.toThrow(
    `the mixer presented cluster key ${presented}, not the pinned ${later.key?.fingerprint}`,
  );
});

it("holds to rack.cluster_key_fingerprint, even on first use", async () => {
  const cluster = await generateKeyPair(SIGNING_ALGORITHM);
  const expected = await keyFingerprint(cluster.publicRaw);
  const other = await generateKeyPair(SIGNING_ALGORITHM);
  const pin = await ClusterPin.load(dir, expected);
  await expect(pin.accept(other.publicRaw)).rejects.toThrow(
    `but rack.cluster_key_fingerprint pins ${expected}`,
  );
  expect((await pin.accept(cluster.publicRaw)).fingerprint).toBe(expected);
  const warnings: string[] = [];
  await pin.save(await pin.accept(cluster.publicRaw), MIXER_ID, (w) => warnings.push(w));
  expect(warnings).toEqual([]);
  // A pin file that disagrees with the configured fingerprint is refused at load.
  await expect(ClusterPin.load(dir, `SHA256:${"0".repeat(64)}`)).rejects.toThrow(
    /the key pinned in .*cluster\.pub is/,
  );
});
