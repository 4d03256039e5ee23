import { scopeCovers } from "../../../../shared/auth/api-scopes.ts";
import { RACK_ACTIONS, type RackAction } from "../../../../shared/control/rack-actions.ts";
import type { ConsoleSession } from "../../auth/console-session.ts";
import { requiredScope } from "../../auth/route-scopes.ts";
import type { RackView } from "../../registry/rack-view.ts";
import { transition } from "../../registry/status-transitions.ts";
import { ActionButton } from "./layout.tsx";

const CONFIRM: Record<RackAction, string | undefined> = {
  approve: undefined,
  suspend: "Suspend this rack? It stops running gears until approved again.",
  revoke: "Revoke this rack for good? It can never be approved again.",
};

/**
 * The actions a rack's status allows and the session's scope may take (the API's own scope table decides),
 * as buttons: a read token sees none.
 */
export function RackActions(props: { rack: RackView; session: ConsoleSession }) {
  const { rack, session } = props;
  const actions = (Object.keys(RACK_ACTIONS) as RackAction[]).filter((action) => {
    if ("to" in transition(action, rack.status) === false) return false;
    return scopeCovers(session.caller.scope, requiredScope("POST", `/api/v1/racks/${rack.id}/${action}`));
  });
  return (
    <span class="actions">
      {actions.map((action) => (
        <ActionButton
          action={`/racks/${rack.id}/${action}`}
          label={action[0]?.toUpperCase() + action.slice(1)}
          csrf={session.csrf}
          confirm={CONFIRM[action]}
          danger={action === "revoke"}
        />
      ))}
    </span>
  );
}
