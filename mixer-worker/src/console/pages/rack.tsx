import type { LogsAnswer } from "../../../../shared/telemetry/query-results.ts";
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

/**
 * One rack: identity and status with its actions, its last heartbeat and gear states, the names of its
 * sealed secrets, its error rate and its recent log lines.
 */
export function RackPage(props: {
  session: ConsoleSession;
  rack: ApiResult<RackView>;
  logs: ApiResult<LogsAnswer>;
  errors: ApiResult<LogsAnswer>;
  now: number;
}) {
  const { rack, logs, errors, session, now } = props;
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
