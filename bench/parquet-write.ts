/**
 * Cost of the mixer's Parquet writer: log rows to a zstd Parquet file in workerd (parquet-file.ts, JS and a wasm
 * zstd), against two baselines of the same command: duckdb-wasm 1.28 in the same isolate writing the same rows
 * (the writer's snappy path: the JS file uncompressed, rewritten by the engine; ingest took this path for every
 * codec before), and native DuckDB in this process rewriting that uncompressed file as zstd. Plus bytes per record.
 *
 *   npx tsx bench/parquet-write.ts [rows…]      (default: 10000 100000)
 *
 * workerd CPU is read from /proc for the workerd process (Linux), so it covers the whole request, including
 * parsing the JSON body; "in worker" is the writer alone, timed inside the isolate.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { syntheticLogs } from "../mixer-worker/src/store/sample-records.ts";
import { startWriterWorker } from "../test/helpers/writer-worker.ts";

const RUNS = 5;
const sizes = process.argv.slice(2).map(Number);
if (sizes.length === 0) sizes.push(10_000, 100_000);

const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"]).toString());

/** The workerd processes started below this one (wrangler runs workerd as a child). */
async function workerdPids(): Promise<number[]> {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const match = /^(\d+) \((.*)\) \S (\d+)/.exec(stat);
    if (!match) continue;
    parents.set(Number(match[1]), Number(match[3]));
    names.set(Number(match[1]), match[2] ?? "");
  }
  const descends = (pid: number): boolean =>
    pid === process.pid || (pid > 1 && parents.has(pid) && descends(parents.get(pid) ?? 0));
  return [...names].filter(([pid, name]) => name === "workerd" && descends(pid)).map(([pid]) => pid);
}

/** CPU time (ms) of each workerd process now; a process that has just exited is left out. */
async function workerdCpu(): Promise<Map<number, number>> {
  const cpu = new Map<number, number>();
  for (const pid of await workerdPids()) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
    const fields = stat?.replace(/^.*\) /, "").split(" ");
    if (fields) cpu.set(pid, ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1000); // utime + stime
  }
  return cpu;
}

/** CPU spent by workerd processes alive both before and after. */
function cpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  let spent = 0;
  for (const [pid, ms] of after) spent += ms - (before.get(pid) ?? ms);
  return spent;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** Native DuckDB rewriting the writer's uncompressed file of the same rows as zstd. */
async function nativeWrite(duck: DuckDBConnection, dir: string, staged: Uint8Array): Promise<number> {
  await writeFile(join(dir, "in.parquet"), staged);
  const started = performance.now();
  await duck.run(
    `COPY (SELECT * FROM '${join(dir, "in.parquet")}') TO '${join(dir, "out.parquet")}' (FORMAT parquet, COMPRESSION zstd)`,
  );
  return performance.now() - started;
}

const dir = await mkdtemp(join(tmpdir(), "fluxrig-bench-"));
const worker = await startWriterWorker();
const duck = await (await DuckDBInstance.create(":memory:")).connect();
try {
  // Loads DuckDB's engine (the snappy path) and the zstd compressor, so no run below pays for a start.
  for (const compression of ["zstd", "snappy"] as const) {
    await worker.write("logs", syntheticLogs(1_000), { format: "parquet", compression });
  }
  console.log(
    "rows     | JS zstd ms (CPU) | duckdb-wasm snappy ms (CPU) | ratio | native zstd ms 2 thr / 1 thr | B/rec JS zstd / native zstd | ndjson",
  );
  for (const rows of sizes) {
    const records = syntheticLogs(rows);
    const runs = {
      zstd: { ms: [] as number[], cpu: [] as number[], bytes: 0 },
      snappy: { ms: [] as number[], cpu: [] as number[], bytes: 0 },
    };
    // Alternating, so both writers see the same machine.
    for (let run = 0; run < RUNS; run++) {
      for (const compression of ["zstd", "snappy"] as const) {
        const before = await workerdCpu();
        const { bytes, writeMs } = await worker.write("logs", records, { format: "parquet", compression });
        runs[compression].cpu.push(cpuSpent(before, await workerdCpu()));
        runs[compression].ms.push(writeMs);
        runs[compression].bytes = bytes.length;
      }
    }
    const staged = (await worker.write("logs", records, { format: "parquet", compression: "none" })).bytes;
    const native: Record<string, number[]> = { 2: [], 1: [] };
    for (const threads of [2, 1]) {
      await duck.run(`SET threads = ${threads}`);
      for (let run = 0; run < RUNS; run++) native[threads]?.push(await nativeWrite(duck, dir, staged));
    }
    const nativeBytes = (await readFile(join(dir, "out.parquet"))).length;
    const ndjson = await worker.write("logs", records, { format: "json", compression: "none" });
    console.log(
      [
        String(rows).padEnd(8),
        `${median(runs.zstd.ms).toFixed(0)} (${median(runs.zstd.cpu).toFixed(0)})`.padStart(16),
        `${median(runs.snappy.ms).toFixed(0)} (${median(runs.snappy.cpu).toFixed(0)})`.padStart(27),
        `${(median(runs.zstd.ms) / median(runs.snappy.ms)).toFixed(2)}x`.padStart(5),
        `${median(native[2] ?? []).toFixed(0)} / ${median(native[1] ?? []).toFixed(0)}`.padStart(28),
        `${(runs.zstd.bytes / rows).toFixed(1)} / ${(nativeBytes / rows).toFixed(1)}`.padStart(27),
        (ndjson.bytes.length / rows).toFixed(1).padStart(6),
      ].join(" | "),
    );
  }
} finally {
  duck.closeSync();
  await worker.dispose();
  await rm(dir, { recursive: true, force: true });
}
