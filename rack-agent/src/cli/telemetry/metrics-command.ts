import type { Command } from "commander";
import type { LoadedConfig, RackConfig } from "../../../../shared/config/index.ts";
import { seriesBuckets } from "../../../../shared/telemetry/metric-buckets.ts";
import { type MetricInterval, QUERY_LIMITS } from "../../../../shared/telemetry/query-params.ts";
import type { MetricSeries, MetricsAnswer } from "../../../../shared/telemetry/query-results.ts";
import { sparkline } from "../../../../shared/telemetry/sparkline.ts";
import { textTable } from "../text-table.ts";
import {
  addQueryOptions,
  apiPath,
  formatNumber,
  palette,
  type QueryIo,
  type QueryOptions,
  queryApi,
  reportLimits,
} from "./query-command.ts";

interface MetricsOptions extends QueryOptions {
  name?: string;
  entity?: string;
  interval?: MetricInterval;
  groupBy?: string;
}

/** Every bucket of the window in order, blank where the series has no point. */
const chart = (answer: MetricsAnswer, series: MetricSeries) =>
  sparkline(seriesBuckets(answer, series).values);

/** One row a series: totals over the window and a chart of its buckets. */
function metricsTable(answer: MetricsAnswer, io: QueryIo): string {
  const colours = palette(io);
  const rows = answer.series.map((series) => {
    const points = series.points;
    const count = points.reduce((n, p) => n + p.count, 0);
    const sum = points.reduce((n, p) => n + p.sum, 0);
    const last = points.at(-1)?.last;
    return [
      series.name,
      series.type,
      Object.entries(series.group)
        .map(([k, v]) => `${k}=${v ?? "-"}`)
        .join(" ") || "-",
      String(count),
      formatNumber(Math.min(...points.map((p) => p.min))),
      formatNumber(sum / count),
      formatNumber(Math.max(...points.map((p) => p.max))),
      last === undefined ? "-" : formatNumber(last),
      chart(answer, series),
    ];
  });
  const header = ["NAME", "TYPE", "GROUP", "COUNT", "MIN", "AVG", "MAX", "LAST", `PER ${answer.interval}`];
  return textTable([header, ...rows], (text, r, column) =>
    r === 0 ? colours.bold(text) : column === 8 ? colours.cyan(text) : text,
  );
}

/**
 * `fluxrig metrics`: metric series from the mixer over a window, bucketed by `--interval`, one row a series
 * with a sparkline of its buckets.
 */
export function addMetricsCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: QueryIo,
): void {
  const metrics = addQueryOptions(
    program
      .command("metrics")
      .description("query metrics stored by the mixer: series per name (and group) with a chart per series")
      .option("--name <metric>", "only this metric (e.g. fluxrig.rack.heartbeats_sent)")
      .option("--entity <name>", "only this entity (rack or host name)")
      .option("--interval <interval>", "bucket size: 1m, 5m or 1h (default: the finest giving at most 60)")
      .option("--group-by <key>", "one series per value of entity_name, entity_id or a label"),
    "series",
    QUERY_LIMITS.maxSeries,
  );
  metrics.addHelpText(
    "after",
    "\nExamples:\n  fluxrig metrics --name fluxrig.rack.heartbeats_sent\n  fluxrig metrics --entity mixer-01 --since 24h --group-by gear\n",
  );
  metrics.action(async (options: MetricsOptions) => {
    // `--name` is also the program's rack-name flag, and commander hands the program its own options
    // wherever they appear; after `metrics` it names the metric, as the reference's CLI has it.
    const name = options.name ?? program.opts<{ name?: string }>().name;
    const api = await queryApi(loadRack, options, io);
    const path = `/api/v1/telemetry/metrics${name ? `/${encodeURIComponent(name)}` : ""}`;
    const answer = await api.get<MetricsAnswer>(
      apiPath(path, {
        since: options.since,
        until: options.until,
        entity: options.entity,
        interval: options.interval,
        group_by: options.groupBy,
        limit: options.limit,
      }),
    );
    if (options.output === "json") io.out(`${JSON.stringify(answer, null, 2)}\n`);
    else if (options.output === "ndjson") {
      for (const { points, ...series } of answer.series) {
        for (const point of points) io.out(`${JSON.stringify({ ...series, ...point })}\n`);
      }
    } else if (answer.series.length === 0)
      io.err(`no metrics from ${answer.window.since} to ${answer.window.until}\n`);
    else io.out(metricsTable(answer, io));
    reportLimits(io, answer);
  });
}
