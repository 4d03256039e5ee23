/**
 * Query latency: the API's typical telemetry and message queries through the real local mixer (the Worker
 * in workerd under wrangler dev, duckdb-wasm 1.28 over objects in its local R2), against the very same SQL
 * run by native DuckDB (`@duckdb/node-api`, one thread) on the very same Parquet files, in the same run.
 *
 *   npm run bench:query -- [--log-rows 10000000] [--message-rows 10000000] [--only all|telemetry|messages|console] [--runs 7]
 *   npm run bench:query -- --only compaction [--compaction-log-rows 1000000] [--flush-seconds 60] [--runs 7]
 *
 * Data: `--log-rows` logs over the last 24 hourly partitions, 10M metric rows over the last 7 days and
 * 2M spans over the last 24 hours, and `--message-rows` journaled messages (fluxes of five hops) over the
 * last 24 hourly partitions (see query-data.ts). Native DuckDB reads the whole tree of a root, as an
 * operator would with a glob, and skips row groups by their statistics; the mixer plans its own reads (a
 * flux lookup reads only the hours its UUID v7 names). `--only console` writes the same data and times the web
 * console's pages instead (console-pages.ts).
 *
 * `--only compaction`: 24 hours of logs, metrics and spans as a bridge flushing every `--flush-seconds` leaves them
 * (one small object per flush per kind), queried through the mixer before and after its compactor merged
 * them (queued with `POST /api/v1/telemetry/compaction`, run by the compactor's alarm in a restarted mixer,
 * so that the isolate's memory it reports is the compaction's own), on the same data in the same run, with
 * native DuckDB over the same files as the reference answer.
 */
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import type { CompactionStatus } from "../mixer-worker/src/compactor/store-compactor.ts";
import { ISOLATE_MEMORY_HEADER } from "../mixer-worker/src/http/query-admission.ts";
import {
  fluxSql,
  logsSelection,
  type MetricsRequest,
  messagesSelection,
  metricsSql,
  pageSql,
  traceSql,
} from "../mixer-worker/src/store/query/index.ts";
import { fluxWindow, type MessagesQuery } from "../shared/journal/query-params.ts";
import type { TimeWindow } from "../shared/telemetry/query-params.ts";
import type { MetricsAnswer, QueryAnswer } from "../shared/telemetry/query-results.ts";
import { putIntoLocalR2, type StoredFile, telemetryBucketName } from "../test/helpers/local-r2.ts";
import { sqlString } from "../test/helpers/native-duckdb.ts";
import { startTestMixer } from "../test/helpers/test-mixer.ts";
import { consolePageCases, timeConsolePages } from "./console-pages.ts";
import {
  type BenchFlux,
  COMMON_TERM,
  GAUGE,
  MIDDLE_TRACE_ID,
  RARE_TERM,
  writeFlushTree,
  writeMessages,
  writeTree,
} from "./query-data.ts";

const { values } = parseArgs({
  options: {
    "log-rows": { type: "string", default: "10000000" },
    "message-rows": { type: "string", default: "10000000" },
    only: { type: "string", default: "all" },
    runs: { type: "string", default: "7" },
    "compaction-log-rows": { type: "string", default: "1000000" },
    "flush-seconds": { type: "string", default: "60" },
  },
});
const LOG_ROWS = Number(values["log-rows"]);
const MESSAGE_ROWS = Number(values["message-rows"]);
if (!["all", "telemetry", "messages", "console", "compaction"].includes(values.only)) {
  throw new Error(`--only takes all, telemetry, messages, console or compaction, got "${values.only}"`);
}
const CONSOLE = values.only === "console";
const TELEMETRY = values.only !== "messages";
const MESSAGES = values.only !== "telemetry";
const RUNS = Number(values.runs);
/**
 * The compaction bench's pause before each request, not timed: wrangler 4.124 often lost the request that
 * followed a long scan at once.
 */
const PAUSE_MS = 3_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Data ends at the start of this hour, so "the last hour" is one whole partition. */
const END = Math.floor(Date.now() / HOUR) * HOUR;
const last = (ms: number): TimeWindow => ({ since: END - ms, until: END });
const iso = (ms: number) => new Date(ms).toISOString();

/** Reads SQL natively over a storage root's whole tree (`telemetry/logs`, or `messages` for every folder). */
type NativeRun = (root: string, sql: (from: string) => string) => Promise<Record<string, unknown>[]>;

interface Case {
  label: string;
  /** The API path, with the window as absolute times (the same the native SQL gets). */
  path: string;
  /** The native baseline: the same SQL the mixer runs, over the whole tree of the root(s) it reads. */
  native: (run: NativeRun) => Promise<Record<string, unknown>[]>;
  /** What both answers must agree on. */
  digest: {
    api: (answer: Record<string, unknown>) => unknown;
    native: (rows: Record<string, unknown>[]) => unknown;
  };
}

const pageDigest = (field: string) => ({
  api: (answer: Record<string, unknown>) =>
    (answer[field] as { record_id: string }[]).map((row) => row.record_id),
  native: (rows: Record<string, unknown>[]) => rows.slice(0, 50).map((row) => row.record_id),
});

function logsCase(label: string, window: TimeWindow, query: { level?: "error"; q?: string }): Case {
  const params = new URLSearchParams({
    since: iso(window.since),
    until: iso(window.until),
    limit: "50",
    ...query,
  });
  return {
    label,
    path: `/api/v1/telemetry/logs?${params}`,
    native: (run) => run("telemetry/logs", (from) => pageSql(logsSelection(query, window), from, 51)),
    digest: pageDigest("logs"),
  };
}

function metricsCase(label: string, window: TimeWindow, interval: "5m" | "1h"): Case {
  const request: MetricsRequest = {
    limit: 50,
    group_by: "entity_name",
    name: GAUGE,
    intervalMs: interval === "5m" ? 300_000 : HOUR,
    intervalName: interval,
  };
  const params = new URLSearchParams({
    since: iso(window.since),
    until: iso(window.until),
    interval,
    group_by: "entity_name",
  });
  const total = (counts: number[]) => counts.reduce((sum, n) => sum + n, 0);
  return {
    label,
    path: `/api/v1/telemetry/metrics/${GAUGE}?${params}`,
    native: (run) => run("telemetry/metrics", (from) => metricsSql(request, window, from)),
    digest: {
      api: (answer) =>
        total((answer as unknown as MetricsAnswer).series.flatMap((s) => s.points.map((p) => p.count))),
      native: (rows) => total(rows.map((row) => Number(row.count))),
    },
  };
}

/** The trace whose root is 12 hours back, by id over the last 24 hours. */
const middleTraceCase: Case = {
  label: "traces: one trace by id (root 12h back), 24h",
  path: `/api/v1/telemetry/traces/${MIDDLE_TRACE_ID}?since=${iso(END - DAY)}&until=${iso(END)}`,
  native: (run) => run("telemetry/traces", (from) => traceSql(MIDDLE_TRACE_ID, last(DAY), from)),
  digest: {
    api: (answer) => (answer.spans as unknown[]).length,
    native: (rows) => rows.length,
  },
};

const telemetryCases: Case[] = [
  logsCase(
    "logs: a window with no data (a request's fixed cost)",
    { since: END - 30 * DAY, until: END - 29 * DAY },
    {},
  ),
  logsCase("logs: errors of the last hour, newest 50", last(HOUR), { level: "error" }),
  logsCase(`logs: q=${COMMON_TERM} over 24h, newest 50`, last(DAY), { q: COMMON_TERM }),
  logsCase(`logs: q=${RARE_TERM} (1 row) over 1h`, last(HOUR), { q: RARE_TERM }),
  logsCase(`logs: q=${RARE_TERM} (1 row) over 24h`, last(DAY), { q: RARE_TERM }),
  logsCase(`logs: q=${RARE_TERM} (1 row) over 7d`, last(7 * DAY), { q: RARE_TERM }),
  metricsCase("metrics: 5m buckets by entity over 24h", last(DAY), "5m"),
  metricsCase("metrics: 1h buckets by entity over 1h", last(HOUR), "1h"),
  metricsCase("metrics: 1h buckets by entity over 24h", last(DAY), "1h"),
  metricsCase("metrics: 1h buckets by entity over 7d", last(7 * DAY), "1h"),
  middleTraceCase,
];

/** The flux lookup and message listings, over the journal written by writeMessages. */
function messageCases(flux: BenchFlux): Case[] {
  const ids = (rows: { record_id: unknown }[]) => rows.map((row) => row.record_id);
  const window = fluxWindow(flux.fluxId) as TimeWindow;
  const listing = (label: string, since: number, params: Record<string, string>): Case => {
    const promoted = Object.fromEntries(
      Object.entries(params).flatMap(([k, v]) => (k.startsWith("promoted.") ? [[k.slice(9), v]] : [])),
    );
    const query = {
      ...Object.fromEntries(Object.entries(params).filter(([k]) => !k.startsWith("promoted."))),
      include_raw: false,
      ...(Object.keys(promoted).length ? { promoted } : {}),
    } as Omit<MessagesQuery, "cursor">;
    const within = { since, until: END };
    return {
      label,
      path: `/api/v1/messages?${new URLSearchParams({ since: iso(since), until: iso(END), limit: "50", ...params })}`,
      native: (run) => run("messages", (from) => pageSql(messagesSelection(query, within), from, 51)),
      digest: pageDigest("messages"),
    };
  };
  return [
    {
      label: "flux: one flux by id (5 hops, 12h back) + its spans and logs",
      path: `/api/v1/flux/${flux.fluxId}`,
      async native(run) {
        const messages = await run("messages", (from) => fluxSql.messages(flux.fluxId, window, from, false));
        const traces = [...new Set(messages.map((m) => String(m.trace_id)))];
        await run("telemetry/traces", (from) => fluxSql.spans(flux.fluxId, traces, window, from));
        await run("telemetry/logs", (from) => fluxSql.logs(flux.fluxId, window, from));
        return messages;
      },
      digest: {
        api: (answer) => ids(answer.messages as { record_id: string }[]),
        native: (rows) =>
          ids(
            [...rows].sort(
              (a, b) => Number(a.ts) - Number(b.ts) || (String(a.record_id) < String(b.record_id) ? -1 : 1),
            ) as { record_id: unknown }[],
          ),
      },
    },
    listing("messages: flux_id=… over 24h (the list endpoint scans)", END - DAY, { flux_id: flux.fluxId }),
    listing("messages: status=error, newest 50, last hour", END - HOUR, { status: "error" }),
    listing("messages: status=error & promoted.currency=EUR over 24h, newest 50", END - DAY, {
      status: "error",
      "promoted.currency": "EUR",
    }),
    listing("messages: gear_id=hsm & promoted.amount=4242 over 24h (rare)", END - DAY, {
      gear_id: "hsm",
      "promoted.amount": "4242",
    }),
  ];
}

const mib = (bytes: number) => (bytes / 1_048_576).toFixed(1);

/**
 * What a query cost the isolate, from the header the mixer sets on every query answer (bytes): DuckDB's
 * linear memory afterwards (its high-water mark, as it never shrinks) and the peak of that plus the object
 * bytes held in JS while it ran.
 */
function isolateMemory(res: Response): { wasm: number; peak: number } {
  const fields = new Map(
    (res.headers.get(ISOLATE_MEMORY_HEADER) ?? "")
      .split(", ")
      .map((pair) => pair.split("=") as [string, string]),
  );
  return { wasm: Number(fields.get("wasm") ?? 0), peak: Number(fields.get("peak") ?? 0) };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

/**
 * Runs `once` RUNS + 1 times (the first warms caches and is not counted), each after `pauseMs` (not timed);
 * p50 and p95 in ms.
 */
async function time(
  once: () => Promise<unknown>,
  pauseMs = 0,
): Promise<{ p50: number; p95: number; last: unknown }> {
  let result: unknown;
  const ms: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    const t0 = performance.now();
    result = await once();
    if (i > 0) ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), last: result };
}

if (values.only === "compaction") await compactionBench();
else await mainBench();

/** The telemetry and message cases over writeTree's and writeMessages' data, against native DuckDB. */
async function mainBench(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "fluxrig-bench-query-"));
  const storeDir = await mkdtemp(join(tmpdir(), "fluxrig-bench-store-"));
  try {
    const writer = await (await DuckDBInstance.create(":memory:")).connect();
    const started = performance.now();
    const files: StoredFile[] = [];
    const cases: Case[] = [];
    let fluxId: string | undefined;
    if (TELEMETRY) {
      console.log(
        `query bench: writing ${LOG_ROWS.toLocaleString("en-US")} logs, metrics and traces natively…`,
      );
      files.push(...(await writeTree(writer, join(work, "tree"), END, { logRows: LOG_ROWS })));
      if (!CONSOLE) cases.push(...telemetryCases);
    }
    if (MESSAGES) {
      console.log(
        `query bench: writing ${MESSAGE_ROWS.toLocaleString("en-US")} journaled messages natively…`,
      );
      const journal = await writeMessages(writer, join(work, "tree"), END, { rows: MESSAGE_ROWS });
      files.push(...journal.files);
      if (CONSOLE) fluxId = journal.flux.fluxId;
      else cases.push(...messageCases(journal.flux));
    }
    writer.closeSync();
    console.log(`written in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    await putIntoLocalR2(join(storeDir, "mixer"), await telemetryBucketName(), files);
    const summary = ["telemetry/logs", "telemetry/metrics", "telemetry/traces", "messages"].map((root) => {
      const of = files.filter((file) => file.key.startsWith(`${root}/`));
      const bytes = of.reduce((n, f) => n + statSync(f.path).size, 0);
      return `${root} ${of.reduce((n, f) => n + f.rows, 0).toLocaleString("en-US")} rows in ${of.length} objects (${(bytes / 1_048_576).toFixed(0)} MiB)`;
    });
    console.log(
      `${summary.join(", ")}; written and put in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );

    const mixer = await startTestMixer({ storeDir });
    const native = await (await DuckDBInstance.create(":memory:", { threads: "1" })).connect();
    try {
      if (CONSOLE) {
        const token = mixer.env.FLUXRIG_API_TOKEN as string;
        const table = await timeConsolePages({ ...mixer, token }, consolePageCases(fluxId), time);
        printTable(
          `ms, ${RUNS} runs after one warm-up; the page as the browser waits for it, its API call alone`,
          table,
        );
        process.exitCode = table.some((row) => row[1] === "failed") ? 1 : 0;
      }
      const rows: string[][] = [];
      // The whole tree of a root, as an operator reads it with a glob; a root without files reads nothing.
      const run: NativeRun = async (root, sql) => {
        const dir = join(work, "tree", root);
        if (!existsSync(dir)) return [];
        const from = `read_parquet(${sqlString(join(dir, "**", "*.parquet"))}${root === "messages" ? ", filename=true" : ""})`;
        return (await native.runAndReadAll(sql(from))).getRowObjectsJS() as Record<string, unknown>[];
      };
      for (const c of cases) {
        let memory = { wasm: 0, peak: 0 };
        const api = await time(async () => {
          const res = await mixer.api(c.path, { signal: AbortSignal.timeout(300_000) });
          const text = await res.text();
          if (!res.ok) throw new Error(`HTTP ${res.status} ${text.slice(0, 200).split("\n")[0]}`);
          const cost = isolateMemory(res);
          memory = { wasm: Math.max(memory.wasm, cost.wasm), peak: Math.max(memory.peak, cost.peak) };
          return JSON.parse(text) as Record<string, unknown>;
        }).catch((error: Error) => error);
        if (api instanceof Error) {
          // One failing case (e.g. the local workerd dying on a scan) is reported, and the rest still run.
          rows.push([c.label, "failed", "", "", "", "", api.message.slice(0, 80), "", "", ""]);
          console.log(`  ${c.label}: FAILED ${api.message}`);
          continue;
        }
        const base = await time(() => c.native(run));
        const answer = api.last as QueryAnswer & Record<string, unknown>;
        const same =
          JSON.stringify(c.digest.api(answer)) ===
          JSON.stringify(c.digest.native(base.last as Record<string, unknown>[]));
        rows.push([
          c.label,
          fmt(api.p50),
          fmt(api.p95),
          fmt(base.p50),
          fmt(base.p95),
          `${(api.p50 / base.p50).toFixed(2)}x`,
          `${answer.scanned.objects} / ${(answer.scanned.bytes / 1_048_576).toFixed(1)} MiB${answer.truncated ? " (truncated)" : ""}`,
          // A truncated answer (a request's read budget) holds fewer rows than the whole tree's, as it says.
          same ? "yes" : answer.truncated ? "no: truncated" : "NO",
          mib(memory.wasm),
          mib(memory.peak),
        ]);
        console.log(
          `  ${c.label}: ${fmt(api.p50)} ms vs ${fmt(base.p50)} ms native; isolate peak ${mib(memory.peak)} MiB`,
        );
      }
      const header = [
        "query",
        "mixer p50",
        "p95",
        "native p50",
        "p95",
        "ratio",
        "mixer read",
        "same rows",
        "wasm MiB",
        "peak MiB",
      ];
      if (rows.length > 0) {
        const version = (await native.runAndReadAll("SELECT version() AS v")).getRowObjectsJS()[0]?.v;
        printTable(
          `ms, ${RUNS} runs after one warm-up; native: DuckDB ${version} on 1 thread over the root's whole tree`,
          [header, ...rows],
        );
      }
    } finally {
      native.closeSync();
      await mixer.dispose();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(storeDir, { recursive: true, force: true });
  }
}

type Mixer = Awaited<ReturnType<typeof startTestMixer>>;

/** Stops the mixer and starts it again on the same store (a second try when the first start fails). */
async function restart(mixer: Mixer): Promise<Mixer> {
  await mixer.stop().catch(() => {});
  return startTestMixer({ again: mixer }).catch(() => startTestMixer({ again: mixer }));
}

/** What one case measured through the mixer. */
interface Measured {
  p50: number;
  objects: number;
  /** Of those, metrics rollups (read instead of an hour's rows), and of these, hour rollups. */
  rollups: number;
  hourRollups: number;
  /** The most the isolate's memory peaked at in one run (DuckDB's plus the bytes held in JS), bytes. */
  peak: number;
  truncated: boolean;
  answer: Record<string, unknown>;
}

/** A markdown table under a caption; the first row is the header. */
function printTable(caption: string, table: string[][]): void {
  const widths = (table[0] ?? []).map((_, i) => Math.max(...table.map((row) => (row[i] ?? "").length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const [header = [], ...rows] = table;
  console.log(
    ["", caption, line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n"),
  );
}

async function compactionBench(): Promise<void> {
  const logRows = Number(values["compaction-log-rows"]);
  const flushSeconds = Number(values["flush-seconds"]);
  const cases: Case[] = [
    logsCase(`logs: q=${RARE_TERM} (1 row) over 24h: a full scan`, last(DAY), { q: RARE_TERM }),
    logsCase("logs: errors over 24h, newest 50", last(DAY), { level: "error" }),
    metricsCase("metrics: 5m buckets by entity over 24h", last(DAY), "5m"),
    metricsCase("metrics: 1h buckets by entity over 24h", last(DAY), "1h"),
    metricsCase("metrics: 1h buckets by entity over 7d", last(7 * DAY), "1h"),
    metricsCase("metrics: 1h buckets by entity over 1h", last(HOUR), "1h"),
    middleTraceCase,
  ];
  const work = await mkdtemp(join(tmpdir(), "fluxrig-bench-compaction-"));
  const storeDir = await mkdtemp(join(tmpdir(), "fluxrig-bench-store-"));
  let mixer: Mixer | undefined;
  try {
    const writer = await (await DuckDBInstance.create(":memory:")).connect();
    const started = performance.now();
    console.log(
      `compaction bench: writing ${logRows.toLocaleString("en-US")} logs, 1,440,000 metric rows and 1,996,800 spans over 24 h, one object per ${flushSeconds} s of each kind…`,
    );
    const files = await writeFlushTree(writer, join(work, "tree"), END, { logRows, flushSeconds });
    writer.closeSync();
    await putIntoLocalR2(join(storeDir, "mixer"), await telemetryBucketName(), files);
    console.log(
      `${files.length} objects written and put in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );

    const native = await (await DuckDBInstance.create(":memory:", { threads: "1" })).connect();
    const run: NativeRun = async (root, sql) => {
      const from = `read_parquet(${sqlString(join(work, "tree", root, "**", "*.parquet"))})`;
      return (await native.runAndReadAll(sql(from))).getRowObjectsJS() as Record<string, unknown>[];
    };
    mixer = await startTestMixer({ storeDir });
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${mixer?.apiUrl}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${mixer?.env.FLUXRIG_API_TOKEN}` },
        signal: AbortSignal.timeout(300_000),
      });
    let restarts = 0;
    /**
     * One request. When the local workerd dies mid-scan ("Network connection lost", issue 13), the mixer is
     * started again on the same store and the request made again, at most twice; the restarts are reported.
     */
    const request = async (c: Case, peak?: (bytes: number) => void): Promise<Record<string, unknown>> => {
      for (let attempt = 0; ; attempt++) {
        const res = await api(c.path).catch((error: Error) => error);
        const text = res instanceof Error ? res.message : await res.text();
        if (!(res instanceof Error) && res.ok) {
          peak?.(isolateMemory(res).peak);
          return JSON.parse(text) as Record<string, unknown>;
        }
        const status = res instanceof Error ? "no answer" : `HTTP ${res.status}`;
        if (attempt === 2 || !/Network connection lost|fetch failed|ECONNRE/.test(text)) {
          throw new Error(`${c.label}: ${status} ${text.slice(0, 200)}`);
        }
        console.log(`  ${c.label}: ${status} ${text.slice(0, 80)}; starting the mixer again`);
        restarts++;
        mixer = await restart(mixer as NonNullable<typeof mixer>);
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      }
    };
    const measure = async (c: Case): Promise<Measured> => {
      let peak = 0;
      const timed = await time(() => request(c, (bytes) => (peak = Math.max(peak, bytes))), PAUSE_MS);
      const answer = timed.last as QueryAnswer & Record<string, unknown>;
      const { objects, rollups = 0, hour_rollups: hourRollups = 0 } = answer.scanned;
      return { p50: timed.p50, objects, rollups, hourRollups, peak, truncated: answer.truncated, answer };
    };
    const before: Measured[] = [];
    for (const c of cases) {
      before.push(await measure(c));
      console.log(`  before: ${c.label}: ${fmt(before.at(-1)?.p50 ?? 0)} ms`);
    }

    // A fresh isolate for the compaction, so that the memory it reports is its own.
    mixer = await restart(mixer);
    const queued = await api(`/api/v1/telemetry/compaction?since=${iso(END - DAY)}&until=${iso(END)}`, {
      method: "POST",
    });
    if (queued.status !== 202)
      throw new Error(`POST compaction: HTTP ${queued.status} ${await queued.text()}`);
    const t0 = performance.now();
    let status: CompactionStatus;
    for (let failed = 0; ; ) {
      // Seldom: a pass's merges hold the local isolate, and requests waiting on it pile up.
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const res = await api("/api/v1/telemetry/compaction").catch((error: Error) => error);
      if (res instanceof Error || !res.ok) {
        const text = res instanceof Error ? res.message : await res.text();
        if (++failed === 6) throw new Error(`GET compaction: ${text.slice(0, 200)}`);
        if (failed % 3 === 0) {
          // The compactor's queue and alarm are in its storage: a new start goes on where it stopped.
          console.log(`  GET compaction: ${text.slice(0, 80)}; starting the mixer again`);
          restarts++;
          mixer = await restart(mixer);
        }
        continue;
      }
      status = (await res.json()) as CompactionStatus;
      if (status.failures > 0) throw new Error(`compaction failed: ${status.last_error}`);
      if (status.queued_partitions === 0 && status.passes > 0) break;
    }
    const wall = performance.now() - t0;
    const totals = status.totals;
    const partitions = status.settling_partitions;
    // A fresh isolate for the queries too, as before the compaction: the memory they report is theirs.
    mixer = await restart(mixer);
    const after: Measured[] = [];
    for (const c of cases) {
      after.push(await measure(c));
      console.log(`  after: ${c.label}: ${fmt(after.at(-1)?.p50 ?? 0)} ms`);
    }
    const rows: string[][] = [];
    for (const [i, c] of cases.entries()) {
      const b = before[i] as Measured;
      const a = after[i] as Measured;
      const base = await time(() => c.native(run));
      const same = (m: Measured) =>
        JSON.stringify(c.digest.api(m.answer)) ===
        JSON.stringify(c.digest.native(base.last as Record<string, unknown>[]));
      const rollups = a.rollups > 0 ? ` (${a.rollups} rollups, ${a.hourRollups} of hours)` : "";
      rows.push([
        c.label,
        `${fmt(b.p50)}`,
        `${b.objects}${b.truncated ? " (truncated)" : ""}`,
        same(b) ? "yes" : "NO",
        mib(b.peak),
        `${fmt(a.p50)}`,
        `${a.objects}${rollups}${a.truncated ? " (truncated)" : ""}`,
        same(a) ? "yes" : "NO",
        mib(a.peak),
        `${(a.p50 / b.p50).toFixed(2)}x`,
        fmt(base.p50),
        `${(a.p50 / base.p50).toFixed(2)}x`,
      ]);
    }
    console.log(
      [
        "",
        `compaction: ${partitions} partitions, ${totals.merged} objects merged into ${totals.written} (${(totals.merged / Math.max(1, partitions)).toFixed(0)} → ${(totals.written / Math.max(1, partitions)).toFixed(1)} an hour and kind), ${totals.rows_out.toLocaleString("en-US")} rows, ${mib(totals.bytes_read)} MiB read, ${mib(totals.bytes_written)} MiB written; ${(totals.ms / 1000).toFixed(1)} s in passes, ${(wall / 1000).toFixed(0)} s until every partition was done`,
        `isolate memory of the compaction (a fresh isolate): DuckDB ${mib(totals.memory?.wasm ?? 0)} MiB, peak with held bytes ${mib(totals.memory?.peak ?? 0)} MiB`,
        ...(restarts > 0
          ? [`the local workerd died mid-request ${restarts} time(s) and was started again`]
          : []),
      ].join("\n"),
    );
    printTable(
      `ms, ${RUNS} runs after one warm-up; same = the answer equals native DuckDB's over the same files (1 thread); peak MiB = the isolate's memory at its peak in any run (DuckDB's and the bytes held in JS; a fresh isolate before and after, cases in this order, and DuckDB's never shrinks)`,
      [
        [
          "query",
          "before p50",
          "objects read",
          "same",
          "peak MiB",
          "after p50",
          "objects read",
          "same",
          "peak MiB",
          "after/before",
          "native p50",
          "after/native",
        ],
        ...rows,
      ],
    );
    native.closeSync();
  } finally {
    await mixer?.dispose();
    await rm(work, { recursive: true, force: true });
    await rm(storeDir, { recursive: true, force: true });
  }
}
