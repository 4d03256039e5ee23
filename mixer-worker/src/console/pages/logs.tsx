import type { LogsAnswer } from "../../../../shared/telemetry/query-results.ts";
import { LOG_RECORD_LEVELS } from "../../../../shared/telemetry/records.ts";
import type { ConsoleSession } from "../../auth/console-session.ts";
import type { ApiResult } from "../console-api.ts";
import { Empty, Layout, Problem, Truncated } from "./layout.tsx";
import { LogTable } from "./log-table.tsx";

/** The filters the Logs page offers: the API's own parameters, passed through as they are. */
export const LOG_FILTERS = ["since", "until", "level", "entity", "gear_id", "flux_id", "q", "limit"] as const;
export type LogFilters = Partial<Record<(typeof LOG_FILTERS)[number], string>>;

/** Logs: the API's filters, newest first, level colours, links to traces and flux stories, a live tail. */
export function LogsPage(props: {
  session: ConsoleSession;
  filters: LogFilters;
  logs: ApiResult<LogsAnswer>;
}) {
  const { filters, logs } = props;
  const tail = new URLSearchParams(Object.entries(filters).filter(([, v]) => v) as [string, string][]);
  tail.set("rows", "1");
  return (
    <Layout title="Logs" session={props.session} active="Logs">
      <form method="get" action="/logs" class="filters">
        <input name="since" placeholder="since (1h, RFC 3339)" value={filters.since ?? ""} />
        <input name="until" placeholder="until" value={filters.until ?? ""} />
        <select name="level">
          <option value="">any level</option>
          {LOG_RECORD_LEVELS.map((level) => (
            <option value={level} selected={filters.level === level}>
              {level} and above
            </option>
          ))}
        </select>
        <input name="entity" placeholder="entity" value={filters.entity ?? ""} />
        <input name="gear_id" placeholder="gear" value={filters.gear_id ?? ""} />
        <input name="flux_id" placeholder="flux id" value={filters.flux_id ?? ""} />
        <input name="q" placeholder="text" value={filters.q ?? ""} />
        <button type="submit">Filter</button>
        <label class="live">
          <input type="checkbox" data-live-tail="logs" /> live tail
        </label>
      </form>
      {!logs.ok ? (
        <Problem result={logs} />
      ) : (
        <>
          <Truncated answer={logs.data} />
          {logs.data.logs.length === 0 && <Empty>No log lines in this window with these filters.</Empty>}
          <LogTable logs={logs.data.logs} tail={`/logs?${tail}`} />
          {logs.data.next && (
            <p class="hint">More lines are older than these: narrow the window or add a filter.</p>
          )}
        </>
      )}
    </Layout>
  );
}
