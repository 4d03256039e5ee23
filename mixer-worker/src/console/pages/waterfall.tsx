import type { TraceSpan } from "../../../../shared/telemetry/query-results.ts";
import { duration } from "../format.ts";

const ROW = 22;
const LABEL = 280;
const WIDTH = 1000;

/**
 * Spans as a waterfall (SVG, drawn on the server): one row per span in tree order, indented by depth, a bar
 * from its start to its end on the trace's time axis, errors in red.
 */
export function Waterfall(props: { spans: TraceSpan[] }) {
  const { spans } = props;
  if (spans.length === 0) return null;
  const starts = spans.map((span) => Date.parse(span.ts));
  const t0 = Math.min(...starts);
  const t1 = Math.max(...spans.map((span, i) => (starts[i] as number) + span.duration_ms));
  const scale = (WIDTH - LABEL - 90) / Math.max(t1 - t0, 1);
  return (
    <svg
      class="waterfall"
      data-testid="waterfall"
      viewBox={`0 0 ${WIDTH} ${spans.length * ROW + 6}`}
      width="100%"
      role="img"
      aria-label={`${spans.length} spans over ${duration(t1 - t0)}`}
    >
      {spans.map((span, i) => {
        const x = LABEL + ((starts[i] as number) - t0) * scale;
        const w = Math.max(span.duration_ms * scale, 2);
        const y = i * ROW + 3;
        return (
          <g class={`span ${span.status}`} data-span={span.span_id}>
            <title>{`${span.span_name} on ${span.entity_name}: ${duration(span.duration_ms)} (${span.status})`}</title>
            <text x={6 + span.depth * 14} y={y + 14} class="label">
              {span.span_name.length > 36 ? `${span.span_name.slice(0, 35)}…` : span.span_name}
            </text>
            <rect x={x} y={y + 3} width={w} height={ROW - 8} rx="2" class="bar" />
            <text x={x + w + 4} y={y + 14} class="dur">
              {duration(span.duration_ms)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
