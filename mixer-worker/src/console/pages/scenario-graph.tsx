import type { Scenario } from "../../../../shared/scenario/index.ts";

const COLUMN = 210;
const GEAR_W = 160;
const GEAR_H = 40;
const ROW = 58;
const BAND_TOP = 30;
const LEFT = 20;

/** How far along the flow each gear is: the longest wire path reaching it (bounded, so cycles end). */
function depths(scenario: Scenario): Map<string, number> {
  const key = (rack: string, gear: string) => `${rack}.${gear}`;
  const depth = new Map(scenario.gears.map((gear) => [key(gear.rack, gear.name), 0]));
  for (let pass = 0; pass < scenario.gears.length; pass++) {
    let moved = false;
    for (const wire of scenario.wires) {
      const from = depth.get(key(wire.from.rack, wire.from.gear)) ?? 0;
      const to = key(wire.to.rack, wire.to.gear);
      if ((depth.get(to) ?? 0) < from + 1 && from + 1 < scenario.gears.length) {
        depth.set(to, from + 1);
        moved = true;
      }
    }
    if (!moved) break;
  }
  return depth;
}

/**
 * A scenario's wiring drawn on the server as SVG: one band per rack alias (with its target), its gears as
 * boxes placed left to right by how far along the flow they are, and each wire as a curve from the sending
 * gear to the receiving one: solid for a guaranteed lane, dashed for a hot one, its ports in the tooltip.
 */
export function ScenarioGraph(props: { scenario: Scenario }) {
  const { scenario } = props;
  const depth = depths(scenario);
  const place = new Map<string, { x: number; y: number }>();
  const bands: { alias: string; target: string; y: number; height: number }[] = [];
  let y = 10;
  for (const [alias, target] of Object.entries(scenario.racks)) {
    const taken = new Map<number, number>();
    for (const gear of scenario.gears.filter((g) => g.rack === alias)) {
      const d = depth.get(`${alias}.${gear.name}`) ?? 0;
      const row = taken.get(d) ?? 0;
      taken.set(d, row + 1);
      place.set(`${alias}.${gear.name}`, { x: LEFT + d * COLUMN, y: y + BAND_TOP + row * ROW });
    }
    const height = BAND_TOP + Math.max(1, ...taken.values()) * ROW;
    const name =
      "name" in target
        ? target.name
        : Object.entries(target.selector)
            .map(([k, v]) => `${k}=${v}`)
            .join(",");
    bands.push({ alias, target: name, y, height });
    y += height + 12;
  }
  const width = LEFT * 2 + (Math.max(0, ...depth.values()) + 1) * COLUMN;
  return (
    <svg
      class="graph"
      data-testid="scenario-graph"
      viewBox={`0 0 ${width} ${y}`}
      width={width}
      role="img"
      aria-label={`${scenario.gears.length} gears on ${bands.length} racks, ${scenario.wires.length} wires`}
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="10"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
        </marker>
      </defs>
      {bands.map((band) => (
        <g class="rack">
          <rect x="6" y={band.y} width={width - 12} height={band.height} rx="6" />
          <text x="14" y={band.y + 20} class="rack-label">
            {band.alias} → {band.target}
          </text>
        </g>
      ))}
      {scenario.wires.map((wire) => {
        const from = place.get(`${wire.from.rack}.${wire.from.gear}`);
        const to = place.get(`${wire.to.rack}.${wire.to.gear}`);
        if (!from || !to) return null;
        const x1 = from.x + GEAR_W;
        const y1 = from.y + GEAR_H / 2;
        const x2 = to.x;
        const y2 = to.y + GEAR_H / 2;
        // A wire going back (a cycle) loops below the boxes instead of crossing them.
        const d =
          x2 > x1
            ? `M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}`
            : `M${x1},${y1} C${x1 + 40},${y1 + 50} ${x2 - 40},${y2 + 50} ${x2},${y2}`;
        return (
          <g class={`wire ${wire.lane}`} data-lane={wire.lane}>
            <title>{`${wire.from.rack}.${wire.from.gear}.${wire.from.port} → ${wire.to.rack}.${wire.to.gear}.${wire.to.port} (${wire.lane})`}</title>
            <path d={d} marker-end="url(#arrow)" />
          </g>
        );
      })}
      {scenario.gears.map((gear) => {
        const at = place.get(`${gear.rack}.${gear.name}`) as { x: number; y: number };
        return (
          <g class="gear" data-gear={gear.name}>
            <rect x={at.x} y={at.y} width={GEAR_W} height={GEAR_H} rx="4" />
            <text x={at.x + 8} y={at.y + 17} class="gear-name">
              {gear.name}
            </text>
            <text x={at.x + 8} y={at.y + 32} class="gear-type">
              {gear.type}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
