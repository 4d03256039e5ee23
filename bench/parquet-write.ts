/**
 * Cost of the mixer's Parquet writer: log rows to a zstd Parquet file in workerd (duckdb-wasm 1.28), against
 * the same plan (same staging file, same COPY) run by native DuckDB in this process, plus bytes per record.
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
import { TELEMETRY_COLUMNS } from "../mixer-worker/src/store/parquet-schema.ts";
import { planParquetWrite } from "../mixer-worker/src/store/parquet-writer.ts";
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

/** Native DuckDB running the writer's own plan; returns the total and the JS part (the staging file). */
async function nativeWrite(
  duck: DuckDBConnection,
  dir: string,
  rows: number,
): Promise<{ total: number; js: number }> {
  const records = syntheticLogs(rows);
  const started = performance.now();
  const plan = planParquetWrite(TELEMETRY_COLUMNS.logs, records, "zstd");
  const js = performance.now() - started;
  await writeFile(join(dir, "in.parquet"), plan.staged);
  await duck.run(plan.copySql(join(dir, "in.parquet"), join(dir, "out.parquet")));
  plan.finish(await readFile(join(dir, "out.parquet")));
  return { total: performance.now() - started, js };
}

const dir = await mkdtemp(join(tmpdir(), "fluxrig-bench-"));
const worker = await startWriterWorker();
const duck = await (await DuckDBInstance.create(":memory:")).connect();
try {
  await worker.write("logs", syntheticLogs(1_000), { format: "parquet", compression: "zstd" }); // loads the engine
  console.log(
    "rows     | in worker ms | workerd CPU ms | native ms 2 thr / 1 thr | ratio | of which JS ms | B/rec zstd parquet | ndjson",
  );
  for (const rows of sizes) {
    const records = syntheticLogs(rows);
    const inWorker: number[] = [];
    const cpu: number[] = [];
    let parquetBytes = 0;
    for (let run = 0; run < RUNS; run++) {
      const before = await workerdCpu();
      const { bytes, writeMs } = await worker.write("logs", records, {
        format: "parquet",
        compression: "zstd",
      });
      cpu.push(cpuSpent(before, await workerdCpu()));
      inWorker.push(writeMs);
      parquetBytes = bytes.length;
    }
    const native: Record<string, number[]> = { 2: [], 1: [] };
    const js: number[] = [];
    for (const threads of [2, 1]) {
      await duck.run(`SET threads = ${threads}`);
      for (let run = 0; run < RUNS; run++) {
        const measured = await nativeWrite(duck, dir, rows);
        native[threads]?.push(measured.total);
        js.push(measured.js);
      }
    }
    const ndjson = await worker.write("logs", records, { format: "json", compression: "none" });
    const nativeOne = median(native[1] ?? []);
    console.log(
      [
        String(rows).padEnd(8),
        median(inWorker).toFixed(0).padStart(12),
        median(cpu).toFixed(0).padStart(14),
        `${median(native[2] ?? []).toFixed(0)} / ${nativeOne.toFixed(0)}`.padStart(23),
        `${(median(inWorker) / nativeOne).toFixed(1)}x`.padStart(5),
        median(js).toFixed(0).padStart(14),
        (parquetBytes / rows).toFixed(1).padStart(18),
        (ndjson.bytes.length / rows).toFixed(1).padStart(6),
      ].join(" | "),
    );
  }
} finally {
  duck.closeSync();
  await worker.dispose();
  await rm(dir, { recursive: true, force: true });
}
