import type { LogEntry } from "../../../../shared/telemetry/query-results.ts";
import { clock } from "../format.ts";

/** Log lines newest first, coloured by level, each linked to its trace and its flux story when it has them. */
export function LogRows(props: { logs: LogEntry[] }) {
  return (
    <>
      {props.logs.map((log) => {
        const traceId = typeof log.attributes.trace_id === "string" ? log.attributes.trace_id : undefined;
        return (
          <tr class={`level-${log.level}`} data-record={log.record_id}>
            <td class="time">{clock(log.ts)}</td>
            <td>
              <span class={`level ${log.level}`}>{log.level}</span>
            </td>
            <td>{log.entity_name}</td>
            <td class="message">{log.message}</td>
            <td class="links">
              {traceId && <a href={`/traces/${traceId}`}>trace</a>}
              {log.flux_id && <a href={`/flux/${log.flux_id}`}>flux</a>}
            </td>
          </tr>
        );
      })}
    </>
  );
}

/** The table around {@link LogRows}; `tail` names the URL the client polls to keep it live. */
export function LogTable(props: { logs: LogEntry[]; tail?: string }) {
  return (
    <table class="grid logs" data-testid="logs">
      <thead>
        <tr>
          <th>Time</th>
          <th>Level</th>
          <th>Entity</th>
          <th>Message</th>
          <th />
        </tr>
      </thead>
      <tbody data-tail={props.tail}>
        <LogRows logs={props.logs} />
      </tbody>
    </table>
  );
}
