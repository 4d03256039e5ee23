import { scopeCovers } from "../../../../shared/auth/api-scopes.ts";
import type { Scenario } from "../../../../shared/scenario/index.ts";
import type { ConsoleSession } from "../../auth/console-session.ts";
import { requiredScope } from "../../auth/route-scopes.ts";
import type { Convergence } from "../../scenarios/convergence.ts";
import type { ApiResult } from "../console-api.ts";
import { clock } from "../format.ts";
import { ActionButton, Empty, Layout, Problem } from "./layout.tsx";
import { ScenarioGraph } from "./scenario-graph.tsx";

interface ScenarioRow {
  name: string;
  version: string;
  hash: string;
  description: string | null;
  imported_at: string;
}

/** Scenarios: every imported version, newest import first. */
export function ScenariosPage(props: {
  session: ConsoleSession;
  scenarios: ApiResult<{ scenarios: ScenarioRow[] }>;
}) {
  const { scenarios } = props;
  return (
    <Layout title="Scenarios" session={props.session} active="Scenarios">
      {!scenarios.ok ? (
        <Problem result={scenarios} />
      ) : scenarios.data.scenarios.length === 0 ? (
        <Empty>
          No scenario imported yet: <code>fluxrig scenario import FILE</code>.
        </Empty>
      ) : (
        <table class="grid" data-testid="scenarios">
          <thead>
            <tr>
              <th>Scenario</th>
              <th>Version</th>
              <th>Description</th>
              <th>Imported</th>
              <th>Hash</th>
            </tr>
          </thead>
          <tbody>
            {scenarios.data.scenarios.map((row) => (
              <tr>
                <td>
                  <a href={`/scenarios/${row.name}?version=${encodeURIComponent(row.version)}`}>{row.name}</a>
                </td>
                <td>{row.version}</td>
                <td>{row.description}</td>
                <td class="time">{clock(row.imported_at)}</td>
                <td>
                  <code>{row.hash.slice(0, 12)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}

/** Convergence per target rack: the table the client refreshes while an activation settles. */
export function ConvergenceTable(props: { status: Convergence & { activated_at: string } }) {
  const { status } = props;
  return (
    <div
      data-testid="convergence"
      data-converged={String(status.converged)}
      data-settled={String(status.settled)}
    >
      <p>
        Version {status.version} activated {clock(status.activated_at)}:{" "}
        <strong>
          {status.converged ? "converged" : status.settled ? "settled, not converged" : "converging…"}
        </strong>
      </p>
      <table class="grid">
        <thead>
          <tr>
            <th>Alias</th>
            <th>Rack</th>
            <th>State</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {status.racks.map((rack) => (
            <tr data-rack={rack.name} data-state={rack.state}>
              <td>{rack.alias}</td>
              <td>{rack.id ? <a href={`/racks/${rack.id}`}>{rack.name}</a> : rack.name}</td>
              <td>
                <span class={`badge ${rack.state}`}>{rack.state}</span>
              </td>
              <td>{rack.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One scenario: its wiring as a graph, activation (for operate and admin) with live convergence per rack. */
export function ScenarioPage(props: {
  session: ConsoleSession;
  name: string;
  scenario: ApiResult<{ name: string; version: string; description: string | null; scenario: Scenario }>;
  status: ApiResult<Convergence & { activated_at: string }>;
}) {
  const { session, scenario, status, name } = props;
  const mayActivate = scopeCovers(
    session.caller.scope,
    requiredScope("POST", `/api/v1/scenarios/${name}/activate`),
  );
  return (
    <Layout title={`Scenario ${name}`} session={session} active="Scenarios">
      {!scenario.ok ? (
        <Problem result={scenario} />
      ) : (
        <>
          <p>
            Version {scenario.data.version}
            {scenario.data.description ? `: ${scenario.data.description}` : ""}
          </p>
          {mayActivate && (
            <div class="actions-row">
              <ActionButton
                action={`/scenarios/${name}/activate?version=${encodeURIComponent(scenario.data.version)}`}
                label="Activate"
                csrf={session.csrf}
                confirm={`Activate ${name} ${scenario.data.version} on its racks?`}
              />
            </div>
          )}
          <ScenarioGraph scenario={scenario.data.scenario} />
          <h2>Convergence</h2>
          <div data-live-convergence={`/scenarios/${name}/convergence`}>
            {status.ok ? (
              <ConvergenceTable status={status.data} />
            ) : status.status === 404 ? (
              <Empty>Never activated.</Empty>
            ) : (
              <Problem result={status} />
            )}
          </div>
        </>
      )}
    </Layout>
  );
}
