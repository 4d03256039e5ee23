import type { ConsoleSession } from "../../auth/console-session.ts";
import type { RackView } from "../../registry/rack-view.ts";
import type { ApiResult } from "../console-api.ts";
import { ago } from "../format.ts";
import { Empty, Layout, Problem } from "./layout.tsx";
import { RackActions } from "./rack-actions.tsx";

/** Fleet: every rack with status, last seen and a stale mark, version, IP, labels, and its actions. */
export function FleetPage(props: {
  session: ConsoleSession;
  racks: ApiResult<{ racks: RackView[] }>;
  now: number;
}) {
  const { racks, session, now } = props;
  return (
    <Layout title="Fleet" session={session} active="Fleet">
      {!racks.ok ? (
        <Problem result={racks} />
      ) : racks.data.racks.length === 0 ? (
        <Empty>
          No rack has enrolled yet. Start one with <code>fluxrig run</code> pointed at this mixer's bus.
        </Empty>
      ) : (
        <table class="grid" data-testid="fleet">
          <thead>
            <tr>
              <th>Rack</th>
              <th>Status</th>
              <th>Last seen</th>
              <th>Version</th>
              <th>IP</th>
              <th>Labels</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {racks.data.racks.map((rack) => (
              <tr data-rack={rack.name} data-status={rack.status}>
                <td>
                  <a href={`/racks/${rack.id}`}>{rack.name}</a>
                </td>
                <td>
                  <span class={`badge ${rack.status}`}>{rack.status}</span>
                  {rack.stale && rack.status === "active" && (
                    <span
                      class="badge stale"
                      title={`no heartbeat for 3 intervals of ${rack.heartbeat_interval}`}
                    >
                      stale
                    </span>
                  )}
                </td>
                <td title={rack.last_seen}>{ago(rack.last_seen, now)}</td>
                <td>{rack.version}</td>
                <td>{rack.ip}</td>
                <td>
                  {Object.entries(rack.labels).map(([key, value]) => (
                    <span class="label">
                      {key}={value}
                    </span>
                  ))}
                </td>
                <td>
                  <RackActions rack={rack} session={session} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
