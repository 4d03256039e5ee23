import { Hono } from "hono";
import { formatDuration } from "../../../shared/config/duration.ts";
import {
  logsQuerySchema,
  metricInterval,
  metricNameSchema,
  metricsQuerySchema,
  QUERY_LIMITS,
  traceIdSchema,
  traceQuerySchema,
  tracesQuerySchema,
} from "../../../shared/telemetry/query-params.ts";
import type { MixerBindings } from "../env.ts";
import { ProblemError } from "../http/problem.ts";
import { queryAdmission } from "../http/query-admission.ts";
import { badParameter, parseQuery, pathParam } from "../http/query-params.ts";
import { queryLogs, queryMetrics, queryTrace, queryTraces } from "../store/index.ts";
import { page, windowOf } from "./query-page.ts";

/**
 * Telemetry queries: `GET /logs`, `/traces`, `/traces/{trace_id}`, `/metrics`, `/metrics/{metric_name}`
 * under `/api/v1/telemetry`. Parameters are validated here; the store's query module does the reading.
 */
export const telemetryQueries = new Hono<MixerBindings>()
  .get("/logs", queryAdmission(), (c) =>
    page(c, "logs", parseQuery(c, logsQuerySchema), (query, window) =>
      queryLogs(c.env.TELEMETRY, query, window),
    ),
  )
  .get("/traces", queryAdmission(), (c) =>
    page(c, "traces", parseQuery(c, tracesQuerySchema), (query, window) =>
      queryTraces(c.env.TELEMETRY, query, window),
    ),
  )
  .get("/traces/:trace_id", queryAdmission(), async (c) => {
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
  .get("/metrics/:metric_name?", queryAdmission(), async (c) => {
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
