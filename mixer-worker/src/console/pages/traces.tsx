import type { TraceAnswer, TracesAnswer } from "../../../../shared/telemetry/query-results.ts";
import type { ConsoleSession } from "../../auth/console-session.ts";
import type { ApiResult } from "../console-api.ts";
import { clock, duration } from "../format.ts";
import { Empty, Layout, Problem, Truncated } from "./layout.tsx";
import { Waterfall } from "./waterfall.tsx";

/** Traces: their root spans, newest first, each a link to its waterfall. */
export function TracesPage(props: {
  session: ConsoleSession;
  since: string;
  traces: ApiResult<TracesAnswer>;
}) {
  const { traces } = props;
  return (
    <Layout title="Traces" session={props.session} active="Traces">
      <form method="get" action="/traces" class="filters">
        <input name="since" placeholder="since (1h, RFC 3339)" value={props.since} />
        <button type="submit">Show</button>
      </form>
      {!traces.ok ? (
        <Problem result={traces} />
      ) : (
        <>
          <Truncated answer={traces.data} />
          {traces.data.traces.length === 0 ? (
            <Empty>No traces in this window.</Empty>
          ) : (
            <table class="grid" data-testid="traces">
              <thead>
                <tr>
                  <th>Start</th>
                  <th>Root span</th>
                  <th>Entity</th>
                  <th>Duration</th>
                  <th>Status</th>
                </tr>
              </thead>
              <tbody>
                {traces.data.traces.map((trace) => (
                  <tr class={trace.status === "error" ? "failed" : undefined}>
                    <td class="time">{clock(trace.ts)}</td>
                    <td>
                      <a href={`/traces/${trace.trace_id}`}>{trace.span_name}</a>
                    </td>
                    <td>{trace.entity_name}</td>
                    <td>{duration(trace.duration_ms)}</td>
                    <td>
                      <span class={`badge ${trace.status}`}>{trace.status}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </Layout>
  );
}

/** One trace as a waterfall with span durations. */
export function TracePage(props: {
  session: ConsoleSession;
  traceId: string;
  trace: ApiResult<TraceAnswer>;
}) {
  const { trace } = props;
  return (
    <Layout title={`Trace ${props.traceId}`} session={props.session} active="Traces">
      {!trace.ok ? (
        <Problem result={trace} />
      ) : (
        <>
          <Truncated answer={trace.data} />
          <p>
            {trace.data.spans.length} spans on{" "}
            {[...new Set(trace.data.spans.map((span) => span.entity_name))].join(", ")}
          </p>
          <Waterfall spans={trace.data.spans} />
        </>
      )}
    </Layout>
  );
}
