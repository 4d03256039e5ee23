import type { FluxMsg } from "../fluxmsg/message.ts";
import { subjectToken } from "../fluxmsg/subjects.ts";
import type { GearCatalogue } from "../gears/catalogue.ts";
import type { Scenario, ScenarioWire } from "./model.ts";
import type { ScenarioPart } from "./part.ts";

/**
 * The guaranteed wires on which a flow comes back to a rack alias it already passed (a request answered by
 * another alias), each with the gears of that alias. Racks of an alias share a lane's consumer, so without
 * more a message coming back lands on any of them; but the rack it passed holds what waits for it (the
 * client of an `http-in` or `tcp-in`, a gear's state for that flux_id). On these wires a message goes back
 * to that rack ({@link laneSubjectFor}), which consumes a subject of its own ({@link ownLaneInput}).
 *
 * A wire returns when its sending gear can be reached from a gear of the receiving alias by following
 * wires; a reply input (`terminalInputs`: it emits nothing) ends the walk.
 *
 * @example returningLanes(scenario, BUILT_IN_GEAR_TYPES).get(wire) // ["normalize", "screen", "switch-in"]
 */
export function returningLanes(scenario: Scenario, catalogue: GearCatalogue): Map<ScenarioWire, string[]> {
  const gears = new Map(scenario.gears.map((gear) => [gear.name, gear]));
  const next = new Map<string, string[]>();
  for (const wire of scenario.wires) {
    const terminal = catalogue.get(gears.get(wire.to.gear)?.type ?? "")?.terminalInputs ?? [];
    if (terminal.includes(wire.to.port)) continue;
    next.set(wire.from.gear, [...(next.get(wire.from.gear) ?? []), wire.to.gear]);
  }
  const reachedFrom = new Map<string, Set<string>>();
  const reached = (alias: string): Set<string> => {
    let seen = reachedFrom.get(alias);
    if (seen) return seen;
    seen = new Set();
    const stack = scenario.gears.filter((gear) => gear.rack === alias).map((gear) => gear.name);
    while (stack.length > 0) {
      for (const to of next.get(stack.pop() as string) ?? []) {
        if (seen.has(to)) continue;
        seen.add(to);
        stack.push(to);
      }
    }
    reachedFrom.set(alias, seen);
    return seen;
  };
  const lanes = new Map<ScenarioWire, string[]>();
  for (const wire of scenario.wires) {
    if (wire.lane !== "guaranteed" || wire.from.rack === wire.to.rack) continue;
    if (!reached(wire.to.rack).has(wire.from.gear)) continue;
    const alias = scenario.gears.filter((gear) => gear.rack === wire.to.rack).map((gear) => gear.name);
    lanes.set(wire, alias.sort());
  }
  return lanes;
}

/**
 * The subject a message on a guaranteed lane is published to: the lane's, except on a returning lane, where
 * it is `<subject>.<rack>` for the rack of the latest hop at one of `returnTo` (the receiving alias's gears).
 * A message that never passed that alias takes the lane's subject, consumed by any of its racks.
 *
 * @example laneSubjectFor(lane, msg) // "flux.msg.edge.answer.in.rack-edge-02"
 */
export function laneSubjectFor(
  lane: Pick<ScenarioPart["publish"][number], "subject" | "returnTo">,
  msg: Pick<FluxMsg, "path">,
): string {
  if (!lane.returnTo) return lane.subject;
  for (let i = msg.path.length - 1; i >= 0; i--) {
    const hop = msg.path[i] as FluxMsg["path"][number];
    if (lane.returnTo.includes(hop.gear)) return `${lane.subject}.${subjectToken(hop.rack)}`;
  }
  return lane.subject;
}

/**
 * A rack's own consumer of a returning input: the subject {@link laneSubjectFor} names for it, with a
 * durable of its own (the racks of the alias share the input's other consumer).
 *
 * @example ownLaneInput(input, "rack-edge-02").durable // "fluxmsg-edge-answer-in-rack-edge-02"
 */
export function ownLaneInput(
  input: ScenarioPart["consume"][number],
  rackName: string,
): ScenarioPart["consume"][number] {
  const token = subjectToken(rackName);
  return { ...input, subject: `${input.subject}.${token}`, durable: `${input.durable}-${token}` };
}
