import {
  QUERY_LIMITS,
  type TimeWindow,
  type TracesQuery,
} from "../../../../shared/telemetry/query-params.ts";
import type { TraceAnswer, TraceSummary, TracesAnswer } from "../../../../shared/telemetry/query-results.ts";
import type { SpanRecord } from "../../../../shared/telemetry/records.ts";
import { appliedWindow, iso, jsonObject, scanAnswer } from "./answer.ts";
import {
  type ListedRow,
  newestPage,
  type PagedRequest,
  type PageSelection,
  type StoredPage,
} from "./newest-page.ts";
import { scanWindow } from "./scan.ts";
import { sqlString, sqlTimestamp } from "./sql.ts";
import { traceTree } from "./trace-tree.ts";

const COMMON = [
  "ts",
  "trace_id",
  "span_id",
  "span_name",
  "duration_ms::DOUBLE AS duration_ms",
  "status::VARCHAR AS status",
  "entity_id::VARCHAR AS entity_id",
  "entity_name",
  "flux_id::VARCHAR AS flux_id",
  "record_id::VARCHAR AS record_id",
];

type SummaryRow = ListedRow & Omit<TraceSummary, "ts">;
type SpanRow = ListedRow & Omit<SpanRecord, "ts" | "attributes"> & { attributes: string };

/**
 * What a traces list selects: root spans (no parent) matching the filters.
 *
 * @example pageSql(tracesSelection({ status: "error" }, window), from, 51)
 */
export function tracesSelection(
  query: Omit<PagedRequest<TracesQuery>, "limit" | "offset">,
  window: TimeWindow,
): PageSelection {
  const filters = ["parent_span_id IS NULL"];
  if (query.status) filters.push(`status = ${sqlString(query.status)}`);
  if (query.min_duration_ms !== undefined) filters.push(`duration_ms >= ${query.min_duration_ms}`);
  if (query.flux_id) filters.push(`flux_id = ${sqlString(query.flux_id)}`);
  if (query.entity) filters.push(`entity_name = ${sqlString(query.entity)}`);
  return { window, cursor: query.cursor, select: COMMON.join(", "), filters };
}

/**
 * The SQL reading one trace's spans from `from`.
 *
 * @example run(traceSql("4bf92f3577b34da6a3ce929d0e0e4736", window, from))
 */
export function traceSql(traceId: string, window: TimeWindow, from: string): string {
  const where = [
    `trace_id = ${sqlString(traceId)}`,
    `ts >= ${sqlTimestamp(window.since)}`,
    `ts < ${sqlTimestamp(window.until)}`,
  ].join(" AND ");
  const select = [...COMMON, "parent_span_id", "attributes::VARCHAR AS attributes"].join(", ");
  return `SELECT ${select} FROM ${from} WHERE ${where} LIMIT ${QUERY_LIMITS.maxSpans + 1}`;
}

/**
 * `GET /api/v1/telemetry/traces`: traces newest first, each as its root span, whose status and duration
 * are the trace's.
 *
 * @example const answer = await queryTraces(env.TELEMETRY, { status: "error", limit: 50, offset: 0 }, window);
 */
export async function queryTraces(
  bucket: R2Bucket,
  query: PagedRequest<TracesQuery>,
  window: TimeWindow,
): Promise<StoredPage<TracesAnswer>> {
  const { rows, answer } = await newestPage<SummaryRow>({
    ...tracesSelection(query, window),
    bucket,
    kind: "traces",
    offset: query.offset,
    limit: query.limit,
  });
  return { ...answer, traces: rows.map((row) => ({ ...row, ts: iso(row.ts) })) };
}

/** Spans of another rack may start slightly before their parent by clock skew; read that far past the root. */
const CLOCK_SKEW_MS = 60_000;

/**
 * `GET /api/v1/telemetry/traces/{trace_id}`: every span of one trace in the window, as a tree in depth-first
 * order. Objects are read newest first; a span starts after its parent, so once the root is found only
 * objects that reach back to its start (less the clock skew allowance) remain to be read.
 *
 * @example const answer = await queryTrace(env.TELEMETRY, "4bf92f3577b34da6a3ce929d0e0e4736", window);
 */
export async function queryTrace(
  bucket: R2Bucket,
  traceId: string,
  window: TimeWindow,
): Promise<TraceAnswer> {
  const spans = new Map<string, SpanRow>();
  let rootTs: number | undefined;
  let tooMany = false;
  const outcome = await scanWindow<SpanRow>({
    bucket,
    kind: "traces",
    window,
    batches: "overlapping",
    query: (from, run) => run(traceSql(traceId, window, from)) as unknown as SpanRow[],
    collect(rows) {
      for (const row of rows) {
        if (spans.size >= QUERY_LIMITS.maxSpans && !spans.has(row.record_id)) {
          tooMany = true;
          return;
        }
        spans.set(row.record_id, row);
        if (row.parent_span_id === null) rootTs = Math.min(rootTs ?? row.ts, row.ts);
      }
    },
    enough: (newest) => tooMany || (rootTs !== undefined && newest < rootTs - CLOCK_SKEW_MS),
  });
  return {
    window: appliedWindow(window),
    ...scanAnswer(
      outcome,
      tooMany ? `more than ${QUERY_LIMITS.maxSpans} spans; the first are shown` : undefined,
    ),
    trace_id: traceId,
    spans: traceTree([...spans.values()]).map(({ span, depth, orphan }) => ({
      ...span,
      ts: iso(span.ts),
      attributes: jsonObject(span.attributes),
      depth,
      orphan,
    })),
  };
}
