import { signScenarioDelivery } from "../../../shared/control/scenario-delivery.ts";
import { uuidv7 } from "../../../shared/random/uuidv7.ts";
import {
  activationHash,
  type RackTarget,
  type Scenario,
  scenarioPart,
} from "../../../shared/scenario/index.ts";
import type { FluxSpec } from "../../../shared/spec/index.ts";
import { snakeBridge } from "../bridge/bridge-stub.ts";
import { mixerConfig } from "../config.ts";
import type { MixerEnv } from "../env.ts";
import { assignedPart, sameLanes } from "../registry/assigned-part.ts";
import { clusterKey } from "../registry/cluster-key.ts";
import { natsKeys } from "../registry/nats-keys.ts";
import { issueRackPassport } from "../registry/rack-passport.ts";
import type { RackRow } from "../registry/rack-row.ts";
import { assignScenarioPart, findRack, listRacks } from "../registry/racks.ts";
import {
  findScenario,
  insertActivation,
  latestActivations,
  type ScenarioRow,
  scenarioOf,
} from "../registry/scenarios.ts";
import { type Convergence, convergence } from "./convergence.ts";
import { scenarioSpecs } from "./scenario-specs.ts";

/** A rack an alias of the scenario resolved to, or the name of one that is not enrolled. */
export interface ActivationTarget {
  alias: string;
  /** Absent when a `name:` target matches no enrolled rack. */
  id?: string;
  name: string;
}

/** Whether a rack's labels hold every pair of a selector. */
function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/**
 * The racks each alias names: one rack by name, or every rack whose labels match a selector. Revoked racks
 * never run anything.
 */
export function resolveTargets(scenario: Scenario, racks: RackRow[]): ActivationTarget[] {
  const live = racks.filter((rack) => rack.status !== "revoked");
  return Object.entries(scenario.racks).flatMap(([alias, target]: [string, RackTarget]) => {
    if ("name" in target) {
      const rack = live.find((r) => r.name === target.name);
      return [{ alias, name: target.name, ...(rack ? { id: rack.id } : {}) }];
    }
    return live
      .filter((rack) => matches(target.selector, JSON.parse(rack.labels) as Record<string, string>))
      .map((rack) => ({ alias, id: rack.id, name: rack.name }));
  });
}

/** How a rack is sent what changed for it: its passport, then its scenario part. */
export interface PartDelivery {
  passport(rackId: string): Promise<void>;
  scenario(rackId: string): Promise<void>;
}

/**
 * Signs a rack's part and keeps it on its row, for delivery now and again when a heartbeat shows it missing.
 * When the part wires the rack to other lanes on a bus in operator mode, its passport is re-issued too: its
 * bus JWT allows the lanes of its part and no others (rack-bus-credentials.ts). Resolves whether it was.
 */
async function assign(
  env: MixerEnv,
  scenario: Scenario,
  specs: ReadonlyMap<string, FluxSpec>,
  target: { alias: string; rackId: string; hash: string },
): Promise<boolean> {
  const { alias, rackId, hash } = target;
  const key = await clusterKey(env);
  const before = await findRack(env.REGISTRY, "id", rackId);
  const part = await scenarioPart(scenario, alias, { specs });
  const now = Date.now();
  const maxHops = mixerConfig(env).config.mixer.max_hops;
  const bytes = await signScenarioDelivery(
    { rack_id: rackId, issued_at: now, max_hops: maxHops, part },
    key.privateKey,
  );
  await assignScenarioPart(env.REGISTRY, rackId, { name: scenario.meta.name, hash }, bytes, now);
  if (!natsKeys(env) || before?.status !== "active" || sameLanes(before && assignedPart(before), part))
    return false;
  await issueRackPassport(env, rackId);
  return true;
}

/**
 * Activates a stored scenario: each target rack gets its signed part, with the specs its gears name (delivered now to active racks; a
 * pending rack gets it `enrollment.push_delay` after it is approved), then waits up to `waitMs` (default
 * `mixer.scenario_wait_timeout`; 0 does not wait) for every target to report running that content hash.
 *
 * @example const report = await activateScenario(env, row, { waitMs: 15_000 });
 */
export async function activateScenario(
  env: MixerEnv,
  row: ScenarioRow,
  options: {
    waitMs?: number;
    /** How a part reaches a rack; default through the Snake bridge (the bridge itself passes its own). */
    deliver?: PartDelivery;
  } = {},
): Promise<Convergence> {
  const scenario = scenarioOf(row);
  const specs = await scenarioSpecs(env, row, scenario);
  // The specs as resolved now are part of the hash: a new spec version re-activates racks holding the old.
  const hash = await activationHash(row.hash, specs);
  const targets = resolveTargets(scenario, await listRacks(env.REGISTRY));
  const activatedAt = Date.now();
  const reissued = new Set<string>();
  for (const target of targets) {
    if (!target.id) continue;
    if (await assign(env, scenario, specs, { alias: target.alias, rackId: target.id, hash }))
      reissued.add(target.id);
  }
  await insertActivation(env.REGISTRY, {
    id: uuidv7(),
    name: row.name,
    version: row.version,
    hash,
    activated_at: activatedAt,
    targets: JSON.stringify(targets),
  });
  const deliver = options.deliver ?? {
    passport: (rackId: string) => snakeBridge(env).deliverPassport(rackId, 0),
    scenario: (rackId: string) => snakeBridge(env).deliverScenario(rackId, 0),
  };
  for (const target of targets) {
    if (!target.id) continue;
    // The passport first: the rack takes updates in arrival order and reconnects with its new JWT before
    // it runs the part whose lanes need it.
    if (reissued.has(target.id)) await deliver.passport(target.id);
    await deliver.scenario(target.id);
  }
  const waitMs = options.waitMs ?? mixerConfig(env).config.mixer.scenario_wait_timeout;
  return waitForConvergence(env, { name: row.name, version: row.version, hash, targets }, waitMs);
}

/** Polls the registry until every target converged or refused, or `waitMs` passed; then says who did what. */
export async function waitForConvergence(
  env: MixerEnv,
  activation: { name: string; version: string; hash: string; targets: ActivationTarget[] },
  waitMs: number,
): Promise<Convergence> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const rows = await Promise.all(
      activation.targets.map((t) => (t.id ? findRack(env.REGISTRY, "id", t.id) : Promise.resolve(null))),
    );
    const report = convergence(activation, rows, Date.now());
    if (report.settled || Date.now() >= deadline) return report;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * A rack about to be approved is assigned the part of the last activated scenario that targets it (by name or
 * by a selector its labels match), so the passport its approval issues already allows that part's lanes.
 * Resolves whether it was given one; the caller delivers it.
 *
 * @example await assignLatestScenario(env, rack);
 */
export async function assignLatestScenario(env: MixerEnv, rack: RackRow): Promise<boolean> {
  const activations = (await latestActivations(env.REGISTRY)).sort((a, b) => b.activated_at - a.activated_at);
  for (const activation of activations) {
    const row = await findScenario(env.REGISTRY, activation.name, activation.version);
    if (!row) continue;
    const scenario = scenarioOf(row);
    const target = resolveTargets(scenario, [rack]).find((t) => t.id === rack.id);
    if (!target) continue;
    const specs = await scenarioSpecs(env, row, scenario);
    const hash = await activationHash(row.hash, specs);
    await assign(env, scenario, specs, { alias: target.alias, rackId: rack.id, hash });
    return true;
  }
  return false;
}
