import type { ScenarioWire } from "../../../shared/scenario/index.ts";

/**
 * Gears upstream first along hot wires (Kahn's order; gears in a declared cycle come last, by name).
 * Draining in this order lets messages in hand flow on before their receivers stop; starting in the
 * reverse order has every receiver ready before its senders begin.
 *
 * @example upstreamFirst(["log", "gen"], part.hot) // ["gen", "log"]
 */
export function upstreamFirst(gears: readonly string[], wires: readonly ScenarioWire[]): string[] {
  const names = new Set(gears);
  const incoming = new Map(gears.map((name) => [name, 0]));
  const edges = wires.filter(
    (w) => names.has(w.from.gear) && names.has(w.to.gear) && w.from.gear !== w.to.gear,
  );
  for (const w of edges) incoming.set(w.to.gear, (incoming.get(w.to.gear) ?? 0) + 1);
  const ready = gears.filter((name) => incoming.get(name) === 0).sort();
  const order: string[] = [];
  while (ready.length > 0) {
    const name = ready.shift() as string;
    order.push(name);
    for (const w of edges.filter((e) => e.from.gear === name)) {
      const left = (incoming.get(w.to.gear) ?? 0) - 1;
      incoming.set(w.to.gear, left);
      if (left === 0) ready.push(w.to.gear);
    }
  }
  return [...order, ...gears.filter((name) => !order.includes(name)).sort()];
}
