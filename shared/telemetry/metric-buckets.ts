import { METRIC_INTERVALS, type MetricInterval } from "./query-params.ts";
import type { MetricSeries, MetricsAnswer } from "./query-results.ts";

/** The value a bucket shows in a chart: what a gauge was, how much a counter counted, else the mean. */
function bucketValue(series: MetricSeries, point: MetricSeries["points"][number]): number {
  if (series.type === "gauge") return point.last ?? point.avg;
  return series.type === "counter" ? point.sum : point.avg;
}

/**
 * Every bucket of the answer's window in order (start times, epoch ms) and the series' value in each,
 * undefined where it has no point: what the CLI's sparkline and the console's chart draw. `value` picks
 * another figure of a point (its `count`: how many records arrived in the bucket).
 */
export function seriesBuckets(
  answer: Pick<MetricsAnswer, "interval" | "window">,
  series: MetricSeries,
  value: (series: MetricSeries, point: MetricSeries["points"][number]) => number = bucketValue,
): { times: number[]; values: (number | undefined)[] } {
  const step = METRIC_INTERVALS[answer.interval as MetricInterval];
  const first = Math.floor(Date.parse(answer.window.since) / step) * step;
  const byTs = new Map(series.points.map((point) => [Date.parse(point.ts), value(series, point)]));
  const times: number[] = [];
  const values: (number | undefined)[] = [];
  for (let ts = first; ts < Date.parse(answer.window.until); ts += step) {
    times.push(ts);
    values.push(byTs.get(ts));
  }
  return { times, values };
}
