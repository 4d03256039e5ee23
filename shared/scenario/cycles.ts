import type { AnyGearTypeDeclaration } from "../gears/gear-type.ts";
import type { ScenarioWire } from "./model.ts";

/** A loop of gears and the index (in the file's `wires`) of the wire that closes it. */
export interface Cycle {
  gears: string[];
  closingWire: number;
}

/**
 * The cycles among wires, one per wire that closes a loop (a back edge of a depth-first walk). A wire into
 * a terminal input (a reply written back to a client) leads nowhere and is left out.
 *
 * @example findCycles(wires, gears).map((c) => c.gears.join(" → "))
 */
export function findCycles(
  wires: readonly { wire: ScenarioWire; index: number }[],
  gears: ReadonlyMap<string, { declaration: AnyGearTypeDeclaration | undefined }>,
): Cycle[] {
  const next = new Map<string, { to: string; index: number }[]>();
  for (const { wire, index } of wires) {
    const terminal = gears.get(wire.to.gear)?.declaration?.terminalInputs ?? [];
    if (terminal.includes(wire.to.port)) continue;
    const list = next.get(wire.from.gear) ?? [];
    list.push({ to: wire.to.gear, index });
    next.set(wire.from.gear, list);
  }
  const cycles: Cycle[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (gear: string) => {
    state.set(gear, "open");
    stack.push(gear);
    for (const edge of next.get(gear) ?? []) {
      const seen = state.get(edge.to);
      if (seen === "open") {
        cycles.push({ gears: [...stack.slice(stack.indexOf(edge.to)), edge.to], closingWire: edge.index });
      } else if (seen === undefined) {
        visit(edge.to);
      }
    }
    stack.pop();
    state.set(gear, "done");
  };
  for (const gear of [...next.keys()].sort()) if (!state.has(gear)) visit(gear);
  return cycles;
}
