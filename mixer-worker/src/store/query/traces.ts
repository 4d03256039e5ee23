import { telemetryRoot } from "../../../../shared/storage/object-keys.ts";
import {
  QUERY_LIMITS,
  type TimeWindow,
  type TracesQuery,
} from "../../../../shared/telemetry/query-params.ts";
import type {
  TraceAnswer,
  TraceSpan,
  TraceSummary,
  TracesAnswer,
} from "../../../../shared/telemetry/query-results.ts";
import type { SpanRecord } from "../../../../shared/telemetry/records.ts";
import { appliedWindow, iso, jsonObject, scanAnswer } from "./answer.ts";
import { matchingRows } from "./matching-rows.ts";
import {
  type ListedRow,
  newestPage,
  type PagedRequest,
  type PageSelection,
  type StoredPage,
} from "./newest-page.ts";
import { sqlString, sqlTimestamp } from "./sql.ts";
import { traceIndexStandIn } from "./trace-index.ts";
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
export type SpanRow = ListedRow & Omit<SpanRecord, "ts" | "attributes"> & { attributes: string };

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
  if (query.entity) filters.push(`entity_name = ${sqlString(query.entity)}`);
  return { window, cursor: query.cursor, select: COMMON.join(", "), filters, fluxId: query.flux_id };
}

/**
 * The SQL reading one trace's spans from `from`.
 *
 * @example run(traceSql("4bf92f3577b34da6a3ce929d0e0e4736", window, from))
 */
export function traceSql(traceId: string, window: TimeWindow, from: string): string {
  return spansSql(`trace_id = ${sqlString(traceId)}`, window, from);
}

/**
 * The SQL reading whole spans matching `condition` in the window, at most one more than a trace may hold.
 *
 * @example run(spansSql("flux_id = '…'", window, from))
 */
export function spansSql(condition: string, window: TimeWindow, from: string): string {
  const where = [
    `(${condition})`,
    `ts >= ${sqlTimestamp(window.since)}`,
    `ts < ${sqlTimestamp(window.until)}`,
  ];
  const select = [...COMMON, "parent_span_id", "attributes::VARCHAR AS attributes"].join(", ");
  return `SELECT ${select} FROM ${from} WHERE ${where.join(" AND ")} LIMIT ${QUERY_LIMITS.maxSpans + 1}`;
}

/** Spans as a tree in depth-first order, as the API answers them. */
export function spanTree(spans: readonly SpanRow[]): TraceSpan[] {
  return traceTree(spans).map(({ span, depth, orphan }) => ({
    ...span,
    ts: iso(span.ts),
    attributes: jsonObject(span.attributes),
    depth,
    orphan,
  }));
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
    roots: [telemetryRoot("traces")],
    offset: query.offset,
    limit: query.limit,
  });
  return { ...answer, traces: rows.map((row) => ({ ...row, ts: iso(row.ts) })) };
}

/** Spans of another rack may start slightly before their parent by clock skew; read that far past the root. */
const CLOCK_SKEW_MS = 60_000;

/**
 * `GET /api/v1/telemetry/traces/{trace_id}`: every span of one trace in the window, as a tree in depth-first
 * order. Partitions whose trace id index says they do not hold it are not read (trace-index.ts). Objects are
 * read newest first; a span starts after its parent, so once the root is found only
 * objects that reach back to its start (less the clock skew allowance) remain to be read.
 *
 * @example const answer = await queryTrace(env.TELEMETRY, "4bf92f3577b34da6a3ce929d0e0e4736", window);
 */
export async function queryTrace(
  bucket: R2Bucket,
  traceId: string,
  window: TimeWindow,
): Promise<TraceAnswer> {
  const { rows, outcome, truncated } = await matchingRows<SpanRow>({
    bucket,
    roots: [telemetryRoot("traces")],
    window,
    standIn: await traceIndexStandIn(bucket, window, traceId),
    sql: (from) => traceSql(traceId, window, from),
    max: QUERY_LIMITS.maxSpans,
    what: "spans",
    enough(newest, spans) {
      let rootTs = Number.POSITIVE_INFINITY;
      for (const span of spans.values()) if (span.parent_span_id === null) rootTs = Math.min(rootTs, span.ts);
      // Without a root yet (+Infinity), nothing is known to be enough.
      return rootTs !== Number.POSITIVE_INFINITY && newest < rootTs - CLOCK_SKEW_MS;
    },
  });
  return {
    window: appliedWindow(window),
    ...scanAnswer(outcome, truncated),
    trace_id: traceId,
    spans: spanTree(rows),
  };
}
