import { RACK_ACTIONS, type RackAction } from "../../../shared/control/rack-actions.ts";
import type { RackStatus } from "../../../shared/passport/index.ts";

/** The statuses each action may leave; revoked is final. */
const FROM: Record<RackAction, readonly RackStatus[]> = {
  approve: ["pending", "suspended"],
  suspend: ["pending", "active"],
  revoke: ["pending", "active", "suspended"],
};

/**
 * Where `action` takes a rack in `status`: a new status, `same` when it is there already (repeating an
 * action is harmless), or `impossible` (e.g. approving a revoked rack).
 *
 * @example transition("approve", "pending") // { to: "active" }
 */
export function transition(
  action: RackAction,
  status: RackStatus,
): { to: RackStatus } | { same: true } | { impossible: true } {
  const to = RACK_ACTIONS[action];
  if (status === to) return { same: true };
  return FROM[action].includes(status) ? { to } : { impossible: true };
}
