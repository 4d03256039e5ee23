import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { loadOrCreateRackKeys, RACK_KEY_FILE } from "./rack-keys.ts";
import { rackName } from "./rack-name.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-keys-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

it("makes the rack's keys on first boot (mode 0600) and keeps the same identity, and so the same name, after", async () => {
  const warnings: string[] = [];
  const first = await loadOrCreateRackKeys(join(dir, "state"), (w) => warnings.push(w));
  expect((await stat(first.path)).mode & 0o777).toBe(0o600);
  const again = await loadOrCreateRackKeys(join(dir, "state"), (w) => warnings.push(w));
  expect(again.fingerprint).toBe(first.fingerprint);
  expect(again.sealing.publicRaw).toEqual(first.sealing.publicRaw);
  expect(warnings).toEqual([]);
  const name = rackName("", "node-", first.fingerprint);
  expect(name).toMatch(/^node-[0-9a-f]{6}$/);
  expect(rackName("", "node-", again.fingerprint)).toBe(name);
  expect(rackName("rack-nyc-01", "node-", first.fingerprint)).toBe("rack-nyc-01");
});

it("refuses a damaged key file with what to do, rather than quietly becoming a new rack", async () => {
  await writeFile(join(dir, RACK_KEY_FILE), "{not json", { mode: 0o600 });
  await expect(loadOrCreateRackKeys(dir, () => {})).rejects.toThrow(
    /rack\.key is not a readable rack key .*restore it from a backup, or move it away/,
  );
});
