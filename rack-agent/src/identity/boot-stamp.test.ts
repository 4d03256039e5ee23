import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { BOOT_STAMP_FILE, nextBootStamp } from "./boot-stamp.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-boot-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

it("grows at every start and is kept in the state dir", async () => {
  const warnings: string[] = [];
  const first = await nextBootStamp(dir, (w) => warnings.push(w));
  const second = await nextBootStamp(dir, (w) => warnings.push(w));
  expect(second).toBeGreaterThan(first);
  expect(await readFile(join(dir, BOOT_STAMP_FILE), "utf8")).toBe(`${second}\n`);
  expect(warnings).toEqual([]);
});

it("grows even when the clock is behind the last start's stamp (a board whose clock ran ahead, then fixed)", async () => {
  const ahead = Date.now() + 365 * 86_400_000;
  await writeFile(join(dir, BOOT_STAMP_FILE), `${ahead}\n`);
  expect(await nextBootStamp(dir, () => {})).toBe(ahead + 1);
});

it("starts from the clock, saying so, when the file is damaged", async () => {
  await writeFile(join(dir, BOOT_STAMP_FILE), "not a number");
  const warnings: string[] = [];
  const before = Date.now();
  expect(await nextBootStamp(dir, (w) => warnings.push(w))).toBeGreaterThanOrEqual(before);
  expect(warnings).toEqual([
    `${join(dir, BOOT_STAMP_FILE)} does not hold a boot stamp (a whole number); starting from the clock`,
  ]);
});
