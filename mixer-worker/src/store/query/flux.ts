import { FLUX_LOOKUP } from "../../../../shared/journal/query-params.ts";
import type { FluxAnswer } from "../../../../shared/journal/query-results.ts";
import { telemetryRoot } from "../../../../shared/storage/object-keys.ts";
import { QUERY_LIMITS, type TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import { appliedWindow, scanAnswer } from "./answer.ts";
import { LOG_SELECT, type LogRow, logEntry } from "./logs.ts";
import { matchingRows } from "./matching-rows.ts";
import { MAX_SPEC_FOLDERS, type MessageRow, messageEntry, messageRoots, messageSelect } from "./messages.ts";
import type { ScanOutcome } from "./scan.ts";
import { sqlString, sqlTimestamp } from "./sql.ts";
import { type SpanRow, spansSql, spanTree } from "./traces.ts";

/** Hop order: time, then record id (a rack's record ids are UUID v7, so they follow its emission order). */
const oldestFirst = (a: { ts: number; record_id: string }, b: { ts: number; record_id: string }) =>
  a.ts - b.ts || (a.record_id < b.record_id ? -1 : a.record_id > b.record_id ? 1 : 0);

const inWindow = (window: TimeWindow) =>
  `ts >= ${sqlTimestamp(window.since)} AND ts < ${sqlTimestamp(window.until)}`;

/** The scans' reports as one: what was read in all, the first reason any was cut short. */
function combined(outcomes: { outcome: ScanOutcome; truncated?: string | undefined }[]) {
  const outcome: ScanOutcome = { objects: 0, bytes: 0, skipped: [] };
  for (const part of outcomes) {
    outcome.objects += part.outcome.objects;
    outcome.bytes += part.outcome.bytes;
    outcome.skipped.push(...part.outcome.skipped);
  }
  outcome.skipped = outcome.skipped.slice(0, 10);
  return { outcome, truncated: outcomes.find((part) => part.truncated)?.truncated };
}

/**
 * The SQL of each part of a flux lookup over `from`: its messages, its spans (of the messages' traces or
 * carrying the flux id), its logs.
 *
 * @example run(fluxSql.messages(fluxId, window, from, false))
 */
export const fluxSql = {
  messages: (fluxId: string, window: TimeWindow, from: string, includeRaw: boolean) =>
    `SELECT ${messageSelect(includeRaw)} FROM ${from} WHERE flux_id = ${sqlString(fluxId)} AND ${inWindow(window)} LIMIT ${FLUX_LOOKUP.maxMessages + 1}`,
  spans(fluxId: string, traceIds: readonly string[], window: TimeWindow, from: string) {
    const ofTraces = traceIds.length
      ? ` OR trace_id IN (${traceIds.slice(0, 100).map(sqlString).join(", ")})`
      : "";
    return spansSql(`flux_id = ${sqlString(fluxId)}${ofTraces}`, window, from);
  },
  logs: (fluxId: string, window: TimeWindow, from: string) =>
    `SELECT ${LOG_SELECT} FROM ${from} WHERE flux_id = ${sqlString(fluxId)} AND ${inWindow(window)} LIMIT ${FLUX_LOOKUP.maxLogs + 1}`,
};

/**
 * `GET /api/v1/flux/{flux_id}`: one business signal end to end. Reads the window only (by default the hour
 * or two around the time the flux id names, see FLUX_LOOKUP): its messages from every `messages/` folder,
 * then the spans of their traces (or carrying the flux id), then its logs. Memory: as any scan (one batch
 * registered at a time), plus at most FLUX_LOOKUP.maxMessages messages, QUERY_LIMITS.maxSpans spans and
 * FLUX_LOOKUP.maxLogs logs held.
 *
 * @example const answer = await queryFlux(env.TELEMETRY, fluxId, window, { includeRaw: false });
 */
export async function queryFlux(
  bucket: R2Bucket,
  fluxId: string,
  window: TimeWindow,
  options: { includeRaw: boolean },
): Promise<FluxAnswer> {
  const { roots, more } = await messageRoots(bucket, undefined);
  const messages = await matchingRows<MessageRow>({
    bucket,
    roots,
    window,
    filename: true,
    what: "messages",
    fluxId,
    max: FLUX_LOOKUP.maxMessages,
    sql: (from) => fluxSql.messages(fluxId, window, from, options.includeRaw),
  });
  const hops = messages.rows.sort(oldestFirst);
  const messageTraces = [...new Set(hops.map((hop) => hop.trace_id))];
  const spans = await matchingRows<SpanRow>({
    bucket,
    roots: [telemetryRoot("traces")],
    window,
    what: "spans",
    max: QUERY_LIMITS.maxSpans,
    sql: (from) => fluxSql.spans(fluxId, messageTraces, window, from),
  });
  const logs = await matchingRows<LogRow>({
    bucket,
    roots: [telemetryRoot("logs")],
    window,
    what: "logs",
    fluxId,
    max: FLUX_LOOKUP.maxLogs,
    sql: (from) => fluxSql.logs(fluxId, window, from),
  });
  const { outcome, truncated } = combined([messages, spans, logs]);
  const tree = spanTree(spans.rows);
  const first = hops[0]?.ts ?? 0;
  return {
    window: appliedWindow(window),
    ...scanAnswer(
      outcome,
      truncated ?? (more ? `more than ${MAX_SPEC_FOLDERS} spec folders; the first were read` : undefined),
    ),
    flux_id: fluxId,
    messages: hops.map((row, hop) => ({ ...messageEntry(row), hop, offset_ms: row.ts - first })),
    trace_ids: [...new Set([...messageTraces, ...tree.map((span) => span.trace_id)])],
    spans: tree,
    logs: logs.rows.sort(oldestFirst).map(logEntry),
  };
}
