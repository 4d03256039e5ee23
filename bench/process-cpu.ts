import { readdir, readFile } from "node:fs/promises";

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user and system, all threads) used so far by every process whose command is `name`, from
 * Linux's /proc: what a bench charges to the mixer (`workerd`) and the bus (`nats-server`) over a run, a
 * figure that holds on a shared machine where rates do not.
 *
 * @example const before = await processCpuSeconds("workerd"); … ; const used = (await processCpuSeconds("workerd")) - before;
 */
export async function processCpuSeconds(name: string): Promise<number> {
  let ticks = 0;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    if (open < 0 || close < 0 || stat.slice(open + 1, close) !== name) continue;
    // Fields after the command: state is the 3rd field, utime the 14th and stime the 15th.
    const fields = stat.slice(close + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
}
