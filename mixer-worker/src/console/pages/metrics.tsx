import { seriesBuckets } from "../../../../shared/telemetry/metric-buckets.ts";
import { METRIC_INTERVALS } from "../../../../shared/telemetry/query-params.ts";
import type { MetricsAnswer } from "../../../../shared/telemetry/query-results.ts";
import { sparkline } from "../../../../shared/telemetry/sparkline.ts";
import type { ConsoleSession } from "../../auth/console-session.ts";
import type { ApiResult } from "../console-api.ts";
import { Empty, Layout, Problem, Truncated } from "./layout.tsx";

export const METRIC_FILTERS = ["name", "since", "until", "interval", "group_by", "entity"] as const;
export type MetricFilters = Partial<Record<(typeof METRIC_FILTERS)[number], string>>;

const seriesLabel = (name: string, group: Record<string, string | null>) => {
  const parts = Object.entries(group).map(([key, value]) => `${key}=${value ?? "∅"}`);
  return parts.length ? `${name} {${parts.join(", ")}}` : name;
};

/**
 * What the client draws with uPlot: x in seconds, one y array per series (null for gaps), as JSON in the
 * page (not a script: the console's CSP runs only its own files).
 */
function chartData(answer: MetricsAnswer) {
  const first = answer.series[0];
  if (!first) return undefined;
  const { times } = seriesBuckets(answer, first);
  return {
    x: times.map((ms) => ms / 1000),
    series: answer.series.map((series) => ({
      label: seriesLabel(series.name, series.group),
      values: seriesBuckets(answer, series).values.map((value) => value ?? null),
    })),
  };
}

/**
 * Metrics: pick a metric, group by entity or a label, pick the interval; a uPlot line chart of the chosen
 * metric, and every series as a row with its sparkline.
 */
export function MetricsPage(props: {
  session: ConsoleSession;
  filters: MetricFilters;
  metrics: ApiResult<MetricsAnswer>;
}) {
  const { filters, metrics } = props;
  const data = metrics.ok && filters.name ? chartData(metrics.data) : undefined;
  return (
    <Layout title="Metrics" session={props.session} active="Metrics">
      <form method="get" action="/metrics" class="filters">
        <input name="name" placeholder="metric (empty: all)" value={filters.name ?? ""} />
        <input name="since" placeholder="since (1h, RFC 3339)" value={filters.since ?? ""} />
        <select name="interval">
          <option value="">auto interval</option>
          {Object.keys(METRIC_INTERVALS).map((interval) => (
            <option value={interval} selected={filters.interval === interval}>
              {interval}
            </option>
          ))}
        </select>
        <input name="group_by" placeholder="group by (entity_name, a label)" value={filters.group_by ?? ""} />
        <input name="entity" placeholder="entity" value={filters.entity ?? ""} />
        <button type="submit">Show</button>
      </form>
      {!metrics.ok ? (
        <Problem result={metrics} />
      ) : (
        <>
          <Truncated answer={metrics.data} />
          {metrics.data.series.length === 0 ? (
            <Empty>No metric points in this window with these filters.</Empty>
          ) : (
            <>
              {data && (
                <>
                  <div
                    id="chart"
                    data-testid="chart"
                    data-points={data.x.length}
                    data-series={data.series.length}
                  />
                  <script
                    type="application/json"
                    id="chart-data"
                    dangerouslySetInnerHTML={{ __html: JSON.stringify(data).replace(/</g, "\\u003c") }}
                  />
                </>
              )}
              <p class="hint">
                {metrics.data.interval} buckets
                {metrics.data.group_by ? `, grouped by ${metrics.data.group_by}` : ""}
              </p>
              <table class="grid" data-testid="series">
                <thead>
                  <tr>
                    <th>Series</th>
                    <th>Type</th>
                    <th>Points</th>
                    <th>Chart</th>
                  </tr>
                </thead>
                <tbody>
                  {metrics.data.series.map((series) => (
                    <tr>
                      <td>
                        <a
                          href={`/metrics?${new URLSearchParams({ ...filters, name: series.name } as Record<string, string>)}`}
                        >
                          {seriesLabel(series.name, series.group)}
                        </a>
                      </td>
                      <td>{series.type}</td>
                      <td>{series.points.length}</td>
                      <td class="spark">{sparkline(seriesBuckets(metrics.data, series).values, 60)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </Layout>
  );
}
