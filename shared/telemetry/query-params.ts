import * as z from "zod";
import { formatDuration, parseDuration } from "../config/duration.ts";
import { LOG_RECORD_LEVELS, SPAN_STATUSES } from "./records.ts";

/**
 * The telemetry query API's parameters, one zod schema per endpoint, shared by the mixer (which validates
 * with them) and the CLI. Each field's `description` says what is allowed; a 400 quotes it.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Bounds every query obeys, whatever the input; the README's API section states them. */
export const QUERY_LIMITS = {
  defaultLimit: 50,
  maxLimit: 1_000,
  maxOffset: 10_000,
  /** The widest since..until window. */
  maxWindowMs: 7 * DAY,
  /** Default windows when `since` is absent. */
  defaultListWindowMs: DAY,
  defaultMetricsWindowMs: HOUR,
  maxSeries: 500,
  maxBucketsPerSeries: 1_440,
  maxPoints: 100_000,
  /** Spans of one trace. */
  maxSpans: 10_000,
  /**
   * Times a query may name: past them dates stop being four-digit years (and Date's range ends at ±275760), so
   * the partition paths, SQL and answers could not be written.
   */
  earliestMs: Date.UTC(1970, 0, 1),
  latestMs: Date.UTC(10_000, 0, 1) - 1,
  /** The longest duration back from now (about ten years); an RFC 3339 time reaches further back. */
  maxAgoMs: 3_650 * DAY,
  /** since/until text: RFC 3339 with nanoseconds and an offset fits in 35 characters. */
  maxTimeLength: 64,
} as const;

/** `interval` values and their length; the default is the finest that gives at most 60 buckets. */
export const METRIC_INTERVALS = { "1m": MINUTE, "5m": 5 * MINUTE, "1h": HOUR } as const;
export type MetricInterval = keyof typeof METRIC_INTERVALS;

/** A point in time as given: absolute (RFC 3339) or a duration back from now (`1h`). */
export type TimeSpec = { at: number } | { ago: number };

const rfc3339 = z.iso.datetime({ offset: true });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TRACE_ID = /^[0-9a-f]{32}$/;
/** Metric names and label keys: what the rack emits (`fluxrig.rack.heartbeats_sent`, `gear`). */
const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,254}$/;
const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

const inTimeRange = (ms: number) => ms >= QUERY_LIMITS.earliestMs && ms <= QUERY_LIMITS.latestMs;

const timeSpec = z
  .string()
  .max(QUERY_LIMITS.maxTimeLength)
  .transform((text, ctx): TimeSpec => {
    const at = rfc3339.safeParse(text).success ? Date.parse(text) : Number.NaN;
    if (inTimeRange(at)) return { at };
    const duration = /^\d/.test(text) ? parseDuration(text) : undefined;
    if (duration?.ok && duration.ms <= QUERY_LIMITS.maxAgoMs) return { ago: duration.ms };
    ctx.addIssue({ code: "custom", message: "not RFC 3339 in range nor a duration in range" });
    return z.NEVER;
  });
const TIME_ALLOWED = `an RFC 3339 time with a zone from ${new Date(QUERY_LIMITS.earliestMs).toISOString()} to ${new Date(QUERY_LIMITS.latestMs).toISOString()} (2025-12-21T00:00:00Z, 2025-12-21T01:00:00+01:00) or a duration back from now up to ${QUERY_LIMITS.maxAgoMs / DAY}d (30s, 15m, 1h, 1h30m, 7d)`;

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A UUID in any case, as lower case (how it is stored and compared). */
export const uuidParam = z
  .string()
  .regex(UUID)
  .transform((text) => text.toLowerCase());
/** Free text; NUL is refused as SQL literals cannot carry it. */
export const textParam = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !value.includes("\u0000"));

export const ENTITY_ALLOWED = "1 to 253 characters (no NUL): an entity name (host or rack name)";

/** Fields every time-windowed endpoint takes. */
export const windowFields = {
  since: timeSpec.optional().describe(TIME_ALLOWED),
  until: timeSpec.optional().describe(TIME_ALLOWED),
};

export const limitField = wholeNumber(1, QUERY_LIMITS.maxLimit)
  .default(QUERY_LIMITS.defaultLimit)
  .describe(`a whole number from 1 to ${QUERY_LIMITS.maxLimit} (default ${QUERY_LIMITS.defaultLimit})`);

/** What a cursor may be, as a 400 says it. */
export const CURSOR_ALLOWED =
  "the `next` value of a previous page of this endpoint with the same filters, unchanged (the mixer signs it)";

/**
 * A page's `next` as the client sends it back: opaque here (a payload and a MAC, base64url); the mixer checks
 * its signature, and that it was made for the same endpoint and filters, before reading what it holds.
 */
export const cursorField = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{43}$/)
  .optional()
  .describe(CURSOR_ALLOWED);

export const offsetField = wholeNumber(0, QUERY_LIMITS.maxOffset)
  .default(0)
  .describe(
    `a whole number from 0 to ${QUERY_LIMITS.maxOffset} (default 0; use the cursor for deeper pages)`,
  );

export const logsQuerySchema = z.strictObject({
  ...windowFields,
  level: z
    .enum(LOG_RECORD_LEVELS)
    .optional()
    .describe(`one of ${LOG_RECORD_LEVELS.join(", ")} (that level and above)`),
  rack_id: uuidParam.optional().describe("a rack id (a UUID): the records' entity_id"),
  gear_id: textParam(128)
    .optional()
    .describe("1 to 128 characters (no NUL): the records' attributes.gear_id"),
  entity: textParam(253).optional().describe(ENTITY_ALLOWED),
  flux_id: uuidParam.optional().describe("a flux id (a UUID)"),
  q: textParam(200)
    .optional()
    .describe("1 to 200 characters (no NUL), found case-insensitively in the message"),
  limit: limitField,
  offset: offsetField,
  cursor: cursorField,
});

export const tracesQuerySchema = z.strictObject({
  ...windowFields,
  flux_id: uuidParam.optional().describe("a flux id (a UUID)"),
  min_duration_ms: z
    .string()
    .regex(/^\d{1,9}(\.\d{1,3})?$/)
    .transform(Number)
    .optional()
    .describe("a duration in milliseconds, 0 or more (e.g. 250 or 12.5)"),
  status: z
    .enum(SPAN_STATUSES)
    .optional()
    .describe(`one of ${SPAN_STATUSES.join(", ")}`),
  entity: textParam(253).optional().describe(ENTITY_ALLOWED),
  limit: limitField,
  offset: offsetField,
  cursor: cursorField,
});

export const traceQuerySchema = z.strictObject(windowFields);

export const traceIdSchema = z.string().regex(TRACE_ID).describe("32 lower-case hex digits (a W3C trace id)");

export const metricsQuerySchema = z.strictObject({
  ...windowFields,
  interval: z
    .enum(Object.keys(METRIC_INTERVALS) as [MetricInterval, ...MetricInterval[]])
    .optional()
    .describe("one of 1m, 5m, 1h (default: the finest giving at most 60 buckets)"),
  group_by: z
    .string()
    .regex(LABEL_KEY)
    .optional()
    .describe("entity_name, entity_id, or a label key (letters, digits, _ . -, up to 64)"),
  entity: textParam(253).optional().describe(ENTITY_ALLOWED),
  limit: wholeNumber(1, QUERY_LIMITS.maxSeries)
    .default(QUERY_LIMITS.defaultLimit)
    .describe(
      `a whole number of series from 1 to ${QUERY_LIMITS.maxSeries} (default ${QUERY_LIMITS.defaultLimit})`,
    ),
});

export const metricNameSchema = z
  .string()
  .regex(METRIC_NAME)
  .describe("a metric name: a letter or _, then letters, digits, _ . : -, up to 255");

export type LogsQuery = z.infer<typeof logsQuerySchema>;
export type TracesQuery = z.infer<typeof tracesQuerySchema>;
export type TraceQuery = z.infer<typeof traceQuerySchema>;
export type MetricsQuery = z.infer<typeof metricsQuerySchema>;

/** A bad parameter, as the 400 names it. */
export interface ParameterProblem {
  parameter: string;
  value: string;
  allowed: string;
}

/** A resolved window: epoch ms, `since` inclusive, `until` exclusive. */
export interface TimeWindow {
  since: number;
  until: number;
}

const resolve = (spec: TimeSpec, now: number) => ("at" in spec ? spec.at : now - spec.ago);

/**
 * The window a query covers: `until` defaults to now, `since` to `defaultMs` before `until`. Fails with the
 * parameter at fault when `since` is after `until` or the window is wider than the maximum.
 *
 * @example resolveWindow({ since: { ago: 3_600_000 } }, Date.now(), QUERY_LIMITS.defaultListWindowMs)
 */
export function resolveWindow(
  given: { since?: TimeSpec | undefined; until?: TimeSpec | undefined },
  now: number,
  defaultMs: number,
  raw: { since?: string | undefined; until?: string | undefined } = {},
): { ok: true; window: TimeWindow } | { ok: false; problem: ParameterProblem } {
  const until = given.until ? resolve(given.until, now) : now;
  // A default since stays in the time range too: `until=1970-01-01T00:00:00Z` reads from that instant.
  const since = given.since
    ? resolve(given.since, now)
    : Math.max(QUERY_LIMITS.earliestMs, until - defaultMs);
  if (since > until) {
    return {
      ok: false,
      problem: {
        parameter: "since",
        value: raw.since ?? new Date(since).toISOString(),
        allowed: `a time not after until (${new Date(until).toISOString()})`,
      },
    };
  }
  if (until - since > QUERY_LIMITS.maxWindowMs) {
    return {
      ok: false,
      problem: {
        parameter: "since",
        value: raw.since ?? new Date(since).toISOString(),
        allowed: `a time at most ${formatDuration(QUERY_LIMITS.maxWindowMs)} before until (the window is ${formatDuration(until - since)})`,
      },
    };
  }
  return { ok: true, window: { since, until } };
}

/**
 * The bucket length for a metrics query: the given interval, else the finest of 1m, 5m and 1h that gives at
 * most 60 buckets (1h for wider windows). Fails when the window would need more buckets than allowed.
 *
 * @example metricInterval(undefined, { since: 0, until: 86_400_000 }) // { ok: true, name: "1h", ms: 3_600_000 }
 */
export function metricInterval(
  given: MetricInterval | undefined,
  window: TimeWindow,
  limit: number,
): { ok: true; name: MetricInterval; ms: number } | { ok: false; problem: ParameterProblem } {
  const span = window.until - window.since;
  const names = Object.keys(METRIC_INTERVALS) as MetricInterval[];
  const name = given ?? names.find((n) => span / METRIC_INTERVALS[n] <= 60) ?? "1h";
  const ms = METRIC_INTERVALS[name];
  const buckets = Math.ceil(span / ms) + 1;
  if (buckets > QUERY_LIMITS.maxBucketsPerSeries) {
    return {
      ok: false,
      problem: {
        parameter: "interval",
        value: name,
        allowed: `an interval giving at most ${QUERY_LIMITS.maxBucketsPerSeries} buckets over the window (${name} gives ${buckets} over ${formatDuration(span)}): a coarser one or a shorter window`,
      },
    };
  }
  if (buckets * limit > QUERY_LIMITS.maxPoints) {
    return {
      ok: false,
      problem: {
        parameter: "limit",
        value: String(limit),
        allowed: `at most ${Math.floor(QUERY_LIMITS.maxPoints / buckets)} series at ${name} over ${formatDuration(span)} (${QUERY_LIMITS.maxPoints} points per response)`,
      },
    };
  }
  return { ok: true, name, ms };
}
