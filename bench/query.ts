/**
 * Query latency: the API's typical telemetry and message queries through the real local mixer (the Worker
 * in workerd under wrangler dev, duckdb-wasm 1.28 over objects in its local R2), against the very same SQL
 * run by native DuckDB (`@duckdb/node-api`, one thread) on the very same Parquet files, in the same run.
 *
 *   npm run bench:query -- [--log-rows 10000000] [--message-rows 10000000] [--only all|telemetry|messages|console] [--runs 7]
 *
 * Data: `--log-rows` logs over the last 24 hourly partitions, 10M metric rows over the last 7 days and
 * 2M spans over the last 24 hours, and `--message-rows` journaled messages (fluxes of five hops) over the
 * last 24 hourly partitions (see query-data.ts). Native DuckDB reads the whole tree of a root, as an
 * operator would with a glob, and skips row groups by their statistics; the mixer plans its own reads (a
 * flux lookup reads only the hours its UUID v7 names). `--only console` writes the same data and times the web
 * console's pages instead (console-pages.ts).
 */
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
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
  writeMessages,
  writeTree,
} from "./query-data.ts";

const { values } = parseArgs({
  options: {
    "log-rows": { type: "string", default: "10000000" },
    "message-rows": { type: "string", default: "10000000" },
    only: { type: "string", default: "all" },
    runs: { type: "string", default: "7" },
  },
});
const LOG_ROWS = Number(values["log-rows"]);
const MESSAGE_ROWS = Number(values["message-rows"]);
if (!["all", "telemetry", "messages", "console"].includes(values.only)) {
  throw new Error(`--only takes all, telemetry, messages or console, got "${values.only}"`);
}
const CONSOLE = values.only === "console";
const TELEMETRY = values.only !== "messages";
const MESSAGES = values.only !== "telemetry";
const RUNS = Number(values.runs);
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
  {
    label: "traces: one trace by id (root 12h back), 24h",
    path: `/api/v1/telemetry/traces/${MIDDLE_TRACE_ID}?since=${iso(END - DAY)}&until=${iso(END)}`,
    native: (run) => run("telemetry/traces", (from) => traceSql(MIDDLE_TRACE_ID, last(DAY), from)),
    digest: {
      api: (answer) => (answer.spans as unknown[]).length,
      native: (rows) => rows.length,
    },
  },
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

/** A markdown table under a caption; the first row is the header. */
function printTable(caption: string, table: string[][]): void {
  const widths = (table[0] ?? []).map((_, i) => Math.max(...table.map((row) => (row[i] ?? "").length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const [header = [], ...rows] = table;
  console.log(
    ["", caption, line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n"),
  );
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

/** Runs `once` RUNS + 1 times (the first warms caches and is not counted); p50 and p95 in ms. */
async function time(once: () => Promise<unknown>): Promise<{ p50: number; p95: number; last: unknown }> {
  let result: unknown;
  const ms: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    result = await once();
    if (i > 0) ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), last: result };
}

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
    console.log(`query bench: writing ${MESSAGE_ROWS.toLocaleString("en-US")} journaled messages natively…`);
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
        `${answer.scanned.objects} / ${(answer.scanned.bytes / 1_048_576).toFixed(1)} MiB`,
        same ? "yes" : "NO",
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
