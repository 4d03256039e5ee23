import { telemetryRoot } from "../../../../shared/storage/object-keys.ts";
import type { MetricsQuery, TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import type { MetricsAnswer } from "../../../../shared/telemetry/query-results.ts";
import { appliedWindow, iso, scanAnswer } from "./answer.ts";
import { MetricSeriesSet, type PartialPoint } from "./metric-series.ts";
import { type RunSql, scanWindow } from "./scan.ts";
import { jsonStringCapturePattern, sqlString, sqlTimestamp, unescapeJsonString } from "./sql.ts";

/**
 * Records one deduplicating pass holds. Measured in duckdb-wasm 1.28 under the 48 MB limit: 250k rows pass
 * in one go, 500k need three passes; the margin covers long names and label values.
 */
const ROWS_PER_PASS = 150_000;

export interface MetricsRequest extends MetricsQuery {
  /** `GET /metrics/{metric_name}`: only this metric. */
  name?: string | undefined;
  intervalMs: number;
  intervalName: string;
}

/** group_by keys that are columns; any other key is a label. */
const COLUMN_KEYS = new Set(["entity_name", "entity_id"]);

/** The SQL expression of the group_by key: a column, or a label's JSON-escaped value (NULL when absent). */
function groupExpression(groupBy: string | undefined): string {
  if (groupBy === undefined) return "NULL::VARCHAR";
  if (COLUMN_KEYS.has(groupBy)) return `${groupBy}::VARCHAR`;
  const pattern = jsonStringCapturePattern(groupBy);
  return `CASE WHEN regexp_matches(labels, ${pattern}) THEN regexp_extract(labels, ${pattern}, 1) END`;
}

/**
 * The SQL aggregating one set of metric rows into partial points: each record once (copies share a record
 * id), then per series and time bucket count, sum, min, max and the latest value; only the first
 * `limit + 1` series in series order (those after can never be shown).
 *
 * @example run(metricsSql(request, window, "read_parquet(['a.parquet'])"))
 */
export function metricsSql(
  request: MetricsRequest,
  window: TimeWindow,
  from: string,
  pass?: { of: number; index: number },
): string {
  const where = [
    `ts >= ${sqlTimestamp(window.since)}`,
    `ts < ${sqlTimestamp(window.until)}`,
    ...(request.name ? [`name = ${sqlString(request.name)}`] : []),
    ...(request.entity ? [`entity_name = ${sqlString(request.entity)}`] : []),
    ...(pass && pass.of > 1 ? [`hash(record_id) % ${pass.of} = ${pass.index}`] : []),
  ].join(" AND ");
  const interval = Math.trunc(request.intervalMs);
  return `WITH points AS (
  SELECT any_value(name) AS name, any_value(type) AS type, any_value(grp) AS grp, any_value(ts) AS ts,
    any_value("value") AS "value",
    -- Orders points by time, then by record id (UUID v7), so "latest" is one point even when times tie.
    lpad(epoch_ms(any_value(ts))::VARCHAR, 16, '0') || record_id::VARCHAR AS order_key
  FROM (SELECT record_id, name, type::VARCHAR AS type, ${groupExpression(request.group_by)} AS grp, ts, "value"
    FROM ${from} WHERE ${where})
  GROUP BY record_id
), series AS (
  SELECT DISTINCT name, type, grp FROM points ORDER BY name, type, grp NULLS LAST LIMIT ${request.limit + 1}
)
SELECT p.name, p.type, p.grp, (epoch_ms(p.ts) // ${interval}) * ${interval} AS bucket, count(*) AS count,
  sum(p."value") AS sum, min(p."value") AS min, max(p."value") AS max, arg_max(p."value", p.order_key) AS last,
  max(p.order_key) AS last_key
FROM points p JOIN series s ON p.name = s.name AND p.type = s.type AND p.grp IS NOT DISTINCT FROM s.grp
GROUP BY p.name, p.type, p.grp, bucket`;
}

function partialPoints(run: RunSql, sql: string): PartialPoint[] {
  return run(sql).map((row) => ({
    name: row.name as string,
    type: row.type as PartialPoint["type"],
    grp: (row.grp as string | null) ?? null,
    bucket: Number(row.bucket),
    count: Number(row.count),
    sum: Number(row.sum),
    min: Number(row.min),
    max: Number(row.max),
    last: Number(row.last),
    lastKey: String(row.last_key),
  }));
}

/**
 * `GET /api/v1/telemetry/metrics[/{metric_name}]`: time buckets per series (a metric, or a metric per
 * group_by value) with count, sum, min, max, avg, and the latest value for gauges. Each partition is
 * aggregated on its own and the partial results merged here, so memory holds one partition's objects and
 * at most `limit` series, never the window's rows.
 *
 * @example await queryMetrics(env.TELEMETRY, { limit: 50, group_by: "entity_name", intervalMs: 300_000, intervalName: "5m" }, window);
 */
export async function queryMetrics(
  bucket: R2Bucket,
  request: MetricsRequest,
  window: TimeWindow,
): Promise<MetricsAnswer> {
  const set = new MetricSeriesSet(request.limit);
  const outcome = await scanWindow<PartialPoint>({
    bucket,
    roots: [telemetryRoot("metrics")],
    window,
    batches: "partition",
    query(from, run, rows) {
      const passes = Math.max(1, Math.ceil(rows / ROWS_PER_PASS));
      return Array.from({ length: passes }, (_, index) =>
        partialPoints(run, metricsSql(request, window, from, { of: passes, index })),
      ).flat();
    },
    collect: (points) => set.add(points),
  });
  const groupBy = request.group_by ?? null;
  return {
    window: appliedWindow(window),
    ...scanAnswer(
      outcome,
      set.more ? `more than ${request.limit} series: raise limit or filter by name or entity` : undefined,
    ),
    interval: request.intervalName,
    group_by: groupBy,
    limit: request.limit,
    series: set.series().map(({ name, type, grp, points }) => ({
      name,
      type,
      group: groupBy === null ? {} : { [groupBy]: COLUMN_KEYS.has(groupBy) ? grp : label(grp) },
      points: points.map(({ bucket: ts, count, sum, min, max, last }) => ({
        ts: iso(ts),
        count,
        sum,
        min,
        max,
        avg: sum / count,
        ...(type === "gauge" ? { last } : {}),
      })),
    })),
  };
}

const label = (grp: string | null) => (grp === null ? null : unescapeJsonString(grp));
