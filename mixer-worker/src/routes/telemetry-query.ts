import { type Context, Hono } from "hono";
import { formatDuration } from "../../../shared/config/duration.ts";
import {
  logsQuerySchema,
  metricInterval,
  metricNameSchema,
  metricsQuerySchema,
  QUERY_LIMITS,
  resolveWindow,
  type TimeSpec,
  type TimeWindow,
  traceIdSchema,
  traceQuerySchema,
  tracesQuerySchema,
} from "../../../shared/telemetry/query-params.ts";
import type { MixerBindings } from "../env.ts";
import { ProblemError } from "../http/problem.ts";
import { badParameter, parseQuery, pathParam } from "../http/query-params.ts";
import { queryLogs, queryMetrics, queryTrace, queryTraces } from "../store/index.ts";

type Windowed = { since?: TimeSpec | undefined; until?: TimeSpec | undefined };
type Paged = Windowed & { offset: number; cursor?: unknown };

/** The window of a request, from its since/until (see resolveWindow), or a 400 naming the culprit. */
function windowOf(c: Context, given: Windowed, defaultMs: number): TimeWindow {
  const raw = { since: c.req.query("since"), until: c.req.query("until") };
  const resolved = resolveWindow(given, Date.now(), defaultMs, raw);
  if (!resolved.ok) throw badParameter(resolved.problem);
  return resolved.window;
}

/** Offset counts from the start of the window; a cursor already says where the page starts. */
function checkPaging(query: Paged): void {
  if (query.cursor !== undefined && query.offset > 0) {
    throw badParameter({
      parameter: "offset",
      value: String(query.offset),
      allowed: "0 (or absent) together with cursor: the cursor already says where the page starts",
    });
  }
}

/**
 * Telemetry queries: `GET /logs`, `/traces`, `/traces/{trace_id}`, `/metrics`, `/metrics/{metric_name}`
 * under `/api/v1/telemetry`. Parameters are validated here; the store's query module does the reading.
 */
export const telemetryQueries = new Hono<MixerBindings>()
  .get("/logs", async (c) => {
    const query = parseQuery(c, logsQuerySchema);
    checkPaging(query);
    const window = windowOf(c, query, QUERY_LIMITS.defaultListWindowMs);
    return c.json(await queryLogs(c.env.TELEMETRY, query, window));
  })
  .get("/traces", async (c) => {
    const query = parseQuery(c, tracesQuerySchema);
    checkPaging(query);
    const window = windowOf(c, query, QUERY_LIMITS.defaultListWindowMs);
    return c.json(await queryTraces(c.env.TELEMETRY, query, window));
  })
  .get("/traces/:trace_id", async (c) => {
    const traceId = pathParam(c, "trace_id", traceIdSchema);
    const window = windowOf(c, parseQuery(c, traceQuerySchema), QUERY_LIMITS.defaultListWindowMs);
    const answer = await queryTrace(c.env.TELEMETRY, traceId, window);
    if (answer.spans.length === 0 && !answer.truncated) {
      throw new ProblemError({
        title: "Not Found",
        status: 404,
        parameter: "trace_id",
        detail: `no spans of trace ${traceId} from ${answer.window.since} to ${answer.window.until}; an earlier since widens the search (up to ${formatDuration(QUERY_LIMITS.maxWindowMs)})`,
      });
    }
    return c.json(answer);
  })
  .get("/metrics/:metric_name?", async (c) => {
    const name =
      c.req.param("metric_name") === undefined ? undefined : pathParam(c, "metric_name", metricNameSchema);
    const query = parseQuery(c, metricsQuerySchema);
    const window = windowOf(c, query, QUERY_LIMITS.defaultMetricsWindowMs);
    const interval = metricInterval(query.interval, window, query.limit);
    if (!interval.ok) throw badParameter(interval.problem);
    return c.json(
      await queryMetrics(
        c.env.TELEMETRY,
        { ...query, name, intervalMs: interval.ms, intervalName: interval.name },
        window,
      ),
    );
  });
