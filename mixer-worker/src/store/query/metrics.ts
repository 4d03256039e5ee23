import { telemetryRoot } from "../../../../shared/storage/object-keys.ts";
import type { MetricsQuery, TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import type { MetricsAnswer } from "../../../../shared/telemetry/query-results.ts";
import { appliedWindow, iso, scanAnswer } from "./answer.ts";
import { rollupPlan } from "./metric-rollups.ts";
import { MetricSeriesSet, type PartialPoint } from "./metric-series.ts";
import { addScans, type RunSql, scanWindow } from "./scan.ts";
import { jsonStringCapturePattern, recordShare, sqlString, sqlTimestamp, unescapeJsonString } from "./sql.ts";
import type { StoredObject } from "./window-objects.ts";

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
 * Metric rows each record once (copies share a record id): `name`, `type`, `ts`, `value`, the `extra`
 * columns (alias, SQL expression over the stored row) and `order_key`, which orders points by time, then by
 * record id (UUID v7), so that "latest" is one point even when times tie.
 *
 * @example metricPointsSql("read_parquet(['a.parquet'])", "true", [["grp", "entity_name::VARCHAR"]])
 */
export function metricPointsSql(from: string, where: string, extra: readonly [string, string][]): string {
  const inner = extra.map(([alias, sql]) => `, ${sql} AS ${alias}`).join("");
  const outer = extra.map(([alias]) => `, any_value(${alias}) AS ${alias}`).join("");
  return `SELECT any_value(name) AS name, any_value(type) AS type, any_value(ts) AS ts, any_value("value") AS "value"${outer},
    lpad(epoch_ms(any_value(ts))::VARCHAR, 16, '0') || record_id::VARCHAR AS order_key
  FROM (SELECT record_id, name, type::VARCHAR AS type, ts, "value"${inner} FROM ${from} WHERE ${where})
  GROUP BY record_id`;
}

/** A bucket's aggregates over points (metricPointsSql). */
export const POINT_AGGREGATES = `count(*) AS count, sum("value") AS sum, min("value") AS min, max("value") AS max,
  arg_max("value", order_key) AS last, max(order_key) AS last_key`;
/** A bucket's aggregates over rows that are aggregates already (rollup rows, partial points). */
export const PARTIAL_AGGREGATES = `sum("count")::BIGINT AS count, sum("sum") AS sum, min("min") AS min,
  max("max") AS max, arg_max("last", last_key) AS last, max(last_key) AS last_key`;

/** The WHERE of a metrics request over stored rows (the raw points, or rollup rows by their minute). */
function requestWhere(request: MetricsRequest, window: TimeWindow): string[] {
  return [
    `ts >= ${sqlTimestamp(window.since)}`,
    `ts < ${sqlTimestamp(window.until)}`,
    ...(request.name ? [`name = ${sqlString(request.name)}`] : []),
    ...(request.entity ? [`entity_name = ${sqlString(request.entity)}`] : []),
  ];
}

/**
 * Partial points per series and time bucket from `rows` (name, type, grp, ts and what `aggregates` reads):
 * only the first `limit + 1` series in series order (those after can never be shown).
 */
function bucketedSql(request: MetricsRequest, rows: string, aggregates: string): string {
  const interval = Math.trunc(request.intervalMs);
  return `WITH rows AS (${rows}), series AS (
  SELECT DISTINCT name, type, grp FROM rows ORDER BY name, type, grp NULLS LAST LIMIT ${request.limit + 1}
)
SELECT p.name, p.type, p.grp, (epoch_ms(p.ts) // ${interval}) * ${interval} AS bucket, ${aggregates}
FROM rows p JOIN series s ON p.name = s.name AND p.type = s.type AND p.grp IS NOT DISTINCT FROM s.grp
GROUP BY p.name, p.type, p.grp, bucket`;
}

/**
 * The SQL aggregating one set of metric rows into partial points: each record once, then per series and
 * time bucket count, sum, min, max and the latest value.
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
    ...requestWhere(request, window),
    ...(pass && pass.of > 1 ? [recordShare(pass.of, pass.index)] : []),
  ].join(" AND ");
  const points = metricPointsSql(from, where, [["grp", groupExpression(request.group_by)]]);
  return bucketedSql(request, points, POINT_AGGREGATES);
}

/**
 * The same partial points from rollup rows (`telemetry/metrics_1m`), for an interval of whole minutes: a
 * minute lies in one bucket, so its row adds up into that bucket as its points would.
 *
 * @example run(rollupMetricsSql(request, window, "read_parquet(['metrics_1m.parquet'])"))
 */
export function rollupMetricsSql(request: MetricsRequest, window: TimeWindow, from: string): string {
  const rows = `SELECT name, type::VARCHAR AS type, ${groupExpression(request.group_by)} AS grp, ts, "count", "sum",
    "min", "max", "last", last_key FROM ${from} WHERE ${requestWhere(request, window).join(" AND ")}`;
  return bucketedSql(request, rows, PARTIAL_AGGREGATES);
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
  const rollups = await rollupPlan(bucket, window, request.intervalMs);
  const rows = await scanWindow<PartialPoint>({
    bucket,
    roots: [telemetryRoot("metrics")],
    window,
    batches: "partition",
    standIn: rollups?.standIn,
    query(from, run, rows) {
      const passes = Math.max(1, Math.ceil(rows / ROWS_PER_PASS));
      return Array.from({ length: passes }, (_, index) =>
        partialPoints(run, metricsSql(request, window, from, { of: passes, index })),
      ).flat();
    },
    collect: (points) => set.add(points),
  });
  // The hours a rollup stood in for: one small object each instead of their rows (read even when the rows'
  // scan was cut short: what it says it read includes them). Hour rollups add up across partitions, so they
  // are read many to a batch; minute ones a partition at a time, as rows are.
  const readRollups = async (objects: StoredObject[], batches: "partition" | "any") =>
    scanWindow<PartialPoint>({
      bucket,
      roots: [],
      window,
      batches,
      objects,
      query: (from, run) => partialPoints(run, rollupMetricsSql(request, window, from)),
      collect: (points) => set.add(points),
    });
  let outcome = rows;
  if (rollups && rollups.minutes.length > 0) {
    const read = await readRollups(rollups.minutes, "partition");
    outcome = addScans(outcome, { ...read, rollups: read.objects });
  }
  if (rollups && rollups.hours.length > 0) {
    const read = await readRollups(rollups.hours, "any");
    outcome = addScans(outcome, { ...read, rollups: read.objects, hour_rollups: read.objects });
  }
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
