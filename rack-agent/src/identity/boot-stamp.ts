import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeDurably } from "../fs/write-durably.ts";

/** Where a rack keeps the stamp of its last start. */
export const BOOT_STAMP_FILE = "boot";

/**
 * The stamp of this start, larger than every earlier start's of this rack: heartbeats carry it, so the mixer
 * tells a restarted rack (a new sequence of heartbeats) from a replay of an earlier one without trusting the
 * rack's clock, which may be wrong. It is the last stamp plus one, or the clock's milliseconds when that is
 * larger, so a lost or damaged file still starts above earlier boots while the clock is right. Kept in
 * `<state_dir>/boot`.
 *
 * @example const boot = await nextBootStamp(config.base.state_dir, log.warn);
 */
export async function nextBootStamp(stateDir: string, warn: (message: string) => void): Promise<number> {
  const path = join(stateDir, BOOT_STAMP_FILE);
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "0";
    throw new Error(`cannot read the boot stamp ${path}: ${error.message}`);
  });
  let last = Number(text.trim());
  if (!Number.isSafeInteger(last) || last < 0) {
    warn(`${path} does not hold a boot stamp (a whole number); starting from the clock`);
    last = 0;
  }
  const stamp = Math.max(last + 1, Date.now());
  await writeDurably(stateDir, BOOT_STAMP_FILE, `${stamp}\n`);
  return stamp;
}
