import type { Scenario } from "../../../../shared/scenario/index.ts";

const COLUMN = 240;
const GEAR_W = 170;
const GEAR_H = 40;
const GAP = 26;
const TOP = 40;

/**
 * A scenario's wiring drawn on the server as SVG: one column per rack alias (with its target), its gears as
 * boxes, and each wire as a curve from the sending gear to the receiving one, solid for a guaranteed lane
 * and dashed for a hot one, labelled with the ports.
 */
export function ScenarioGraph(props: { scenario: Scenario }) {
  const { scenario } = props;
  const aliases = Object.keys(scenario.racks);
  const rows = new Map<string, number>();
  const place = new Map<string, { x: number; y: number }>();
  for (const gear of scenario.gears) {
    const column = aliases.indexOf(gear.rack);
    const row = rows.get(gear.rack) ?? 0;
    rows.set(gear.rack, row + 1);
    place.set(`${gear.rack}.${gear.name}`, { x: column * COLUMN + 20, y: TOP + row * (GEAR_H + GAP) });
  }
  const height = TOP + Math.max(1, ...rows.values()) * (GEAR_H + GAP) + 10;
  return (
    <svg
      class="graph"
      data-testid="scenario-graph"
      viewBox={`0 0 ${Math.max(1, aliases.length) * COLUMN + 20} ${height}`}
      width="100%"
      role="img"
      aria-label={`${scenario.gears.length} gears on ${aliases.length} racks, ${scenario.wires.length} wires`}
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
      {aliases.map((alias, i) => {
        const target = scenario.racks[alias];
        const name =
          target && "name" in target
            ? target.name
            : Object.entries(target?.selector ?? {})
                .map(([k, v]) => `${k}=${v}`)
                .join(",");
        return (
          <g class="rack">
            <rect x={i * COLUMN + 8} y="4" width={COLUMN - 16} height={height - 8} rx="6" />
            <text x={i * COLUMN + 16} y="24" class="rack-label">
              {alias} → {name}
            </text>
          </g>
        );
      })}
      {scenario.wires.map((wire) => {
        const from = place.get(`${wire.from.rack}.${wire.from.gear}`);
        const to = place.get(`${wire.to.rack}.${wire.to.gear}`);
        if (!from || !to) return null;
        const x1 = from.x + GEAR_W;
        const y1 = from.y + GEAR_H / 2;
        const x2 = to.x;
        const y2 = to.y + GEAR_H / 2;
        const bend = Math.max(40, Math.abs(x2 - x1) / 2);
        return (
          <g class={`wire ${wire.lane}`} data-lane={wire.lane}>
            <title>{`${wire.from.rack}.${wire.from.gear}.${wire.from.port} → ${wire.to.rack}.${wire.to.gear}.${wire.to.port} (${wire.lane})`}</title>
            <path
              d={`M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`}
              marker-end="url(#arrow)"
            />
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
