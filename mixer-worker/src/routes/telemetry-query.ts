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
import type { PageAnswer } from "../../../shared/telemetry/query-results.ts";
import type { MixerBindings } from "../env.ts";
import { openPageCursor, sealPageCursor } from "../http/page-cursor.ts";
import { ProblemError } from "../http/problem.ts";
import { badParameter, parseQuery, pathParam } from "../http/query-params.ts";
import {
  type PagedRequest,
  queryLogs,
  queryMetrics,
  queryTrace,
  queryTraces,
  type StoredPage,
} from "../store/index.ts";

type Windowed = { since?: TimeSpec | undefined; until?: TimeSpec | undefined };
type Paged = Windowed & { offset: number; cursor?: string | undefined };

/** The window of a request, from its since/until (see resolveWindow), or a 400 naming the culprit. */
function windowOf(c: Context, given: Windowed, defaultMs: number): TimeWindow {
  const raw = { since: c.req.query("since"), until: c.req.query("until") };
  const resolved = resolveWindow(given, Date.now(), defaultMs, raw);
  if (!resolved.ok) throw badParameter(resolved.problem);
  return resolved.window;
}

/**
 * One newest-first page of `endpoint`: checks paging and the window, opens the request's cursor, and signs
 * the answer's `next` for the same endpoint and filters.
 */
async function page<Q extends Paged, A extends PageAnswer>(
  c: Context<MixerBindings>,
  endpoint: string,
  query: Q,
  read: (query: PagedRequest<Q>, window: TimeWindow) => Promise<StoredPage<A>>,
): Promise<Response> {
  // Offset counts from the start of the window; a cursor already says where the page starts.
  if (query.cursor !== undefined && query.offset > 0) {
    throw badParameter({
      parameter: "offset",
      value: String(query.offset),
      allowed: "0 (or absent) together with cursor: the cursor already says where the page starts",
    });
  }
  const window = windowOf(c, query, QUERY_LIMITS.defaultListWindowMs);
  const cursor = await openPageCursor(c.env, endpoint, query);
  const answer = await read({ ...query, cursor }, window);
  return c.json({ ...answer, next: await sealPageCursor(c.env, endpoint, query, answer.next) });
}

/**
 * Telemetry queries: `GET /logs`, `/traces`, `/traces/{trace_id}`, `/metrics`, `/metrics/{metric_name}`
 * under `/api/v1/telemetry`. Parameters are validated here; the store's query module does the reading.
 */
export const telemetryQueries = new Hono<MixerBindings>()
  .get("/logs", (c) =>
    page(c, "logs", parseQuery(c, logsQuerySchema), (query, window) =>
      queryLogs(c.env.TELEMETRY, query, window),
    ),
  )
  .get("/traces", (c) =>
    page(c, "traces", parseQuery(c, tracesQuerySchema), (query, window) =>
      queryTraces(c.env.TELEMETRY, query, window),
    ),
  )
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
