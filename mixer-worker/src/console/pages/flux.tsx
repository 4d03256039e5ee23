import type { FluxAnswer } from "../../../../shared/journal/query-results.ts";
import type { ConsoleSession } from "../../auth/console-session.ts";
import type { ApiResult } from "../console-api.ts";
import { clock, duration } from "../format.ts";
import { Empty, Layout, Problem, Truncated } from "./layout.tsx";
import { LogTable } from "./log-table.tsx";
import { Waterfall } from "./waterfall.tsx";

const WIDTH = 1000;
const LEFT = 200;

/** The hops on one time axis, one lane per rack, the failing hop in red and marked. */
function HopTimeline(props: { hops: FluxAnswer["messages"] }) {
  const { hops } = props;
  const racks = [...new Set(hops.map((hop) => hop.entity_name))];
  const end = Math.max(1, ...hops.map((hop) => hop.offset_ms));
  const scale = (WIDTH - LEFT - 40) / end;
  return (
    <svg
      class="timeline"
      data-testid="flux-timeline"
      viewBox={`0 0 ${WIDTH} ${racks.length * 36 + 30}`}
      width="100%"
      role="img"
      aria-label={`${hops.length} hops on ${racks.length} racks over ${duration(end)}`}
    >
      {racks.map((rack, i) => (
        <g class="lane">
          <text x="6" y={i * 36 + 24} class="label">
            {rack}
          </text>
          <line x1={LEFT} x2={WIDTH - 20} y1={i * 36 + 20} y2={i * 36 + 20} />
        </g>
      ))}
      {hops.map((hop) => {
        const x = LEFT + hop.offset_ms * scale;
        const y = racks.indexOf(hop.entity_name) * 36 + 20;
        return (
          <g class={`hop ${hop.status}`} data-hop={hop.hop}>
            <title>{`hop ${hop.hop}: ${hop.src_gear_id ?? "(in)"} → ${hop.dst_gear_id ?? "(out)"} on ${hop.entity_name}, +${duration(hop.offset_ms)}, ${hop.status}`}</title>
            <circle cx={x} cy={y} r="7" />
            <text x={x} y={y - 10} class="hop-number">
              {hop.hop}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** Flux: one business signal end to end: hops on a timeline across racks, its spans, its logs. */
export function FluxPage(props: { session: ConsoleSession; fluxId?: string; flux?: ApiResult<FluxAnswer> }) {
  const { flux, fluxId } = props;
  const failed = flux?.ok ? flux.data.messages.find((hop) => hop.status === "error") : undefined;
  return (
    <Layout title={fluxId ? `Flux ${fluxId}` : "Flux"} session={props.session} active="Flux">
      <form method="get" action="/flux" class="filters">
        <input name="id" placeholder="flux id (UUID v7)" value={fluxId ?? ""} size={40} />
        <button type="submit">Follow</button>
      </form>
      {!flux ? (
        <Empty>
          Paste a flux id (from a log line, <code>fluxrig messages</code>, or a message's <code>id</code>) to
          follow one business signal across racks.
        </Empty>
      ) : !flux.ok ? (
        <Problem result={flux} />
      ) : (
        <>
          <Truncated answer={flux.data} />
          <p data-testid="flux-summary">
            {flux.data.messages.length} hops on{" "}
            {new Set(flux.data.messages.map((hop) => hop.entity_name)).size} racks
            {flux.data.messages.length > 0 && ` over ${duration(flux.data.messages.at(-1)?.offset_ms ?? 0)}`}
            {failed && (
              <strong class="failed">
                {" "}
                · failed at hop {failed.hop} ({failed.src_gear_id ?? "(in)"} → {failed.dst_gear_id ?? "(out)"}{" "}
                on {failed.entity_name})
              </strong>
            )}
          </p>
          {flux.data.messages.length > 0 && <HopTimeline hops={flux.data.messages} />}
          <table class="grid" data-testid="hops">
            <thead>
              <tr>
                <th>Hop</th>
                <th>Time</th>
                <th>+</th>
                <th>Rack</th>
                <th>From → to</th>
                <th>Type</th>
                <th>Direction</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {flux.data.messages.map((hop) => (
                <tr class={hop.status === "error" ? "failed" : undefined} data-status={hop.status}>
                  <td>{hop.hop}</td>
                  <td class="time">{clock(hop.ts)}</td>
                  <td>{duration(hop.offset_ms)}</td>
                  <td>{hop.entity_name}</td>
                  <td>
                    {hop.src_gear_id ?? "(in)"} → {hop.dst_gear_id ?? "(out)"}
                  </td>
                  <td>{hop.msg_type}</td>
                  <td>{hop.direction}</td>
                  <td>
                    <span class={`badge ${hop.status}`}>{hop.status}</span>
                    {hop.status === "error" && " ◀ failed here"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Spans</h2>
          {flux.data.spans.length ? (
            <Waterfall spans={flux.data.spans} />
          ) : (
            <Empty>No spans stored for it.</Empty>
          )}
          <h2>Logs</h2>
          {flux.data.logs.length ? (
            <LogTable logs={[...flux.data.logs].reverse()} />
          ) : (
            <Empty>No log lines carry it.</Empty>
          )}
        </>
      )}
    </Layout>
  );
}
