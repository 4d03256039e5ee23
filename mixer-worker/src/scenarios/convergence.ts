import type { RackRow } from "../registry/rack-row.ts";
import { STALE_AFTER_INTERVALS } from "../registry/rack-view.ts";

/** Where one target rack stands with an activation. */
export type RackConvergence = {
  alias: string;
  name: string;
  id: string | null;
  state: "converged" | "refused" | "starting" | "offline" | "not_active" | "not_enrolled" | "replaced";
  /** Why it has not converged, in words an operator acts on. */
  reason: string | null;
};

export interface Convergence {
  name: string;
  version: string;
  hash: string;
  /** Every target converged. */
  converged: boolean;
  /** Nothing will change by waiting longer: every target converged or refused, or no rack can run it. */
  settled: boolean;
  racks: RackConvergence[];
}

/**
 * Compares what each target rack reports (in its heartbeats) with the activation's content hash.
 *
 * @example convergence(activation, rows, Date.now()).racks.filter((r) => r.state !== "converged")
 */
export function convergence(
  activation: {
    name: string;
    version: string;
    hash: string;
    targets: { alias: string; name: string; id?: string }[];
  },
  rows: (RackRow | null)[],
  now: number,
): Convergence {
  const racks = activation.targets.map((target, i): RackConvergence => {
    const rack = rows[i];
    const base = { alias: target.alias, name: target.name, id: target.id ?? null };
    if (!rack)
      return { ...base, state: "not_enrolled", reason: `no enrolled rack is named "${target.name}"` };
    if (rack.status !== "active") {
      return {
        ...base,
        state: "not_active",
        reason: `the rack is ${rack.status}; it runs gears once active`,
      };
    }
    if (rack.scenario_hash !== activation.hash) {
      return {
        ...base,
        state: "replaced",
        reason: `another activation (${rack.scenario_name}) replaced this one`,
      };
    }
    if (rack.scenario_reported_hash === activation.hash) {
      if (rack.scenario_state === "running") return { ...base, state: "converged", reason: null };
      if (rack.scenario_state === "refused") {
        return { ...base, state: "refused", reason: rack.scenario_error ?? "the rack refused its part" };
      }
    }
    if (now - rack.last_seen > STALE_AFTER_INTERVALS * rack.heartbeat_interval_ms) {
      return {
        ...base,
        state: "offline",
        reason: `no heartbeat since ${new Date(rack.last_seen).toISOString()}; it gets its part when it is back`,
      };
    }
    return {
      ...base,
      state: "starting",
      reason: rack.scenario_error ?? "the rack has not yet reported running this scenario",
    };
  });
  const waiting = racks.some((r) => r.state === "starting");
  return {
    name: activation.name,
    version: activation.version,
    hash: activation.hash,
    converged: racks.length > 0 && racks.every((r) => r.state === "converged"),
    settled: !waiting,
    racks,
  };
}
