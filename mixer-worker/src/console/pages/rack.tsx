import { parseDuration } from "../../../../shared/config/duration.ts";
import { seriesBuckets } from "../../../../shared/telemetry/metric-buckets.ts";
import type { LogsAnswer, MetricsAnswer } from "../../../../shared/telemetry/query-results.ts";
import { sparkline } from "../../../../shared/telemetry/sparkline.ts";
import type { ConsoleSession } from "../../auth/console-session.ts";
import type { RackView } from "../../registry/rack-view.ts";
import type { ApiResult } from "../console-api.ts";
import { ago, clock } from "../format.ts";
import { Empty, Layout, Problem, Truncated } from "./layout.tsx";
import { LogTable } from "./log-table.tsx";
import { RackActions } from "./rack-actions.tsx";

type Heartbeat = {
  scenario?: { name?: string; hash?: string; state?: string; error?: string; gears?: Record<string, string> };
};

/** The metric a rack sends with each heartbeat: its arrivals per bucket are the heartbeat history. */
export const HEARTBEAT_METRIC = "fluxrig.rack.heartbeats_sent";

const HISTORY_MS = 6 * 3_600_000;

/** The metrics query of a rack's heartbeat history: the last 6 hours in 5-minute buckets. */
export const HEARTBEAT_HISTORY = (entity: string) => ({ entity, since: "6h", interval: "5m" });

/**
 * One rack: identity and status with its actions, its last heartbeat, its heartbeat history, gear states,
 * the names of its sealed secrets, its error rate and its recent log lines.
 */
export function RackPage(props: {
  session: ConsoleSession;
  rack: ApiResult<RackView>;
  logs: ApiResult<LogsAnswer>;
  errors: ApiResult<LogsAnswer>;
  heartbeats: ApiResult<MetricsAnswer>;
  now: number;
}) {
  const { rack, logs, errors, heartbeats, session, now } = props;
  if (!rack.ok)
    return (
      <Layout title="Rack" session={session} active="Fleet">
        <Problem result={rack} />
      </Layout>
    );
  const view = rack.data;
  const heartbeat = (view.last_heartbeat ?? {}) as Heartbeat;
  const gears = Object.entries(heartbeat.scenario?.gears ?? {});
  return (
    <Layout title={`Rack ${view.name}`} session={session} active="Fleet">
      <p>
        <span class={`badge ${view.status}`} data-testid="rack-status">
          {view.status}
        </span>
        {view.stale && <span class="badge stale">stale</span>} <RackActions rack={view} session={session} />
      </p>
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{view.id}</code>
        </dd>
        <dt>Key</dt>
        <dd>
          <code>{view.key_fingerprint}</code>
        </dd>
        <dt>Version, IP</dt>
        <dd>
          {view.version}, {view.ip}
        </dd>
        <dt>First seen</dt>
        <dd>{clock(view.first_seen)}</dd>
        <dt>Last heartbeat</dt>
        <dd title={view.last_seen}>
          {ago(view.last_seen, now)} (every {view.heartbeat_interval})
        </dd>
        <dt>Scenario</dt>
        <dd>
          {heartbeat.scenario?.name
            ? `${heartbeat.scenario.name} (${(heartbeat.scenario.hash ?? "").slice(0, 12)}) ${heartbeat.scenario.state ?? "?"}${heartbeat.scenario.error ? `: ${heartbeat.scenario.error}` : ""}`
            : "none"}
        </dd>
        <dt>Sealed secrets</dt>
        <dd>{view.secrets.length ? view.secrets.join(", ") : "none"}</dd>
        <dt>Heartbeats, last 6 h</dt>
        <dd data-testid="heartbeat-history">
          <HeartbeatHistory
            answer={heartbeats}
            every={view.heartbeat_interval}
            span={Math.min(HISTORY_MS, now - Date.parse(view.first_seen))}
          />
        </dd>
        <dt>Errors, last hour</dt>
        <dd data-testid="error-rate">
          {errors.ok ? `${errors.data.logs.length}${errors.data.next ? "+" : ""} error lines` : "unknown"}
        </dd>
      </dl>
      <h2>Gears</h2>
      {gears.length === 0 ? (
        <Empty>No gears running.</Empty>
      ) : (
        <table class="grid" data-testid="gears">
          <tbody>
            {gears.map(([gear, state]) => (
              <tr>
                <td>{gear}</td>
                <td>
                  <span class={`badge ${state}`}>{state}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Recent logs</h2>
      {!logs.ok ? (
        <Problem result={logs} />
      ) : (
        <>
          <Truncated answer={logs.data} />
          {logs.data.logs.length ? (
            <LogTable logs={logs.data.logs} />
          ) : (
            <Empty>No log lines from this rack in the last hour.</Empty>
          )}
          <p>
            <a href={`/logs?entity=${encodeURIComponent(view.name)}`}>All its logs</a> ·{" "}
            <a href={`/metrics?entity=${encodeURIComponent(view.name)}`}>its metrics</a>
          </p>
        </>
      )}
    </Layout>
  );
}

/**
 * Heartbeats that arrived per 5 minutes over 6 hours, as a sparkline (a gap is a stretch with none), and how
 * many arrived against how many its interval makes since it was first seen: what shows a rack that flaps.
 */
function HeartbeatHistory(props: { answer: ApiResult<MetricsAnswer>; every: string; span: number }) {
  const { answer, every, span } = props;
  if (!answer.ok) return <span class="muted">unknown: {answer.detail || answer.title}</span>;
  const series = answer.data.series[0];
  if (!series) return <span class="muted">none in the last 6 hours</span>;
  const { values } = seriesBuckets(answer.data, series, (_, point) => point.count);
  const received = values.reduce<number>((sum, value) => sum + (value ?? 0), 0);
  const interval = parseDuration(every);
  const expected = interval.ok && interval.ms > 0 ? Math.floor(span / interval.ms) : undefined;
  return (
    <span>
      <span class="spark" title="5-minute buckets, oldest first">
        {sparkline(values, 72)}
      </span>{" "}
      {received} received
      {expected !== undefined && received < expected ? `, ${expected} expected at one every ${every}` : ""}
      {answer.data.truncated ? " (truncated)" : ""}
    </span>
  );
}
