import type { TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import type { ListedRow } from "./newest-page.ts";
import { type ScanOutcome, scanWindow } from "./scan.ts";
import type { StandIn } from "./window-objects.ts";

export interface MatchingQuery<Row extends ListedRow> {
  bucket: R2Bucket;
  roots: readonly string[];
  window: TimeWindow;
  /** The SQL selecting one batch's matching rows from `from`; it should stop at `max + 1` rows. */
  sql(from: string): string;
  /** The most distinct rows kept; past it the answer says it was cut short, naming `what`. */
  max: number;
  what: string;
  filename?: boolean;
  /** Set when `sql` selects only rows of this flux id: objects without it are not read. */
  fluxId?: string;
  /** Leaves out the partition folders it resolves true for (see WindowObjects). */
  standIn?: StandIn | undefined;
  /** Whether the rows held so far are all there is to find, given the newest time unread objects hold. */
  enough?(newest: number, rows: ReadonlyMap<string, Row>): boolean;
}

/**
 * Every row of a window's objects that a query selects, each record once (copies share a record id), read
 * newest object first, up to `max` rows: the tool of lookups by id (a trace, a flux) that want all of a few
 * rows rather than a page. `truncated` says why the rows may be incomplete.
 *
 * @example
 * const { rows } = await matchingRows({ bucket, roots: ["telemetry/logs"], window, max: 1_000, what: "logs",
 *   sql: (from) => `SELECT … FROM ${from} WHERE flux_id = '…' LIMIT 1001` });
 */
export async function matchingRows<Row extends ListedRow>(
  query: MatchingQuery<Row>,
): Promise<{ rows: Row[]; outcome: ScanOutcome; truncated?: string }> {
  const rows = new Map<string, Row>();
  let tooMany = false;
  const outcome = await scanWindow<Row>({
    bucket: query.bucket,
    roots: query.roots,
    window: query.window,
    fluxId: query.fluxId,
    standIn: query.standIn,
    filename: query.filename === true,
    batches: "overlapping",
    query: (from, run) => run(query.sql(from)) as unknown as Row[],
    collect(batch) {
      for (const row of batch) {
        if (rows.size >= query.max && !rows.has(row.record_id)) {
          tooMany = true;
          return;
        }
        rows.set(row.record_id, row);
      }
    },
    enough: (newest) => tooMany || query.enough?.(newest, rows) === true,
  });
  const truncated =
    outcome.truncated ??
    (tooMany ? `more than ${query.max} ${query.what}; the first found are shown` : undefined);
  return { rows: [...rows.values()], outcome, ...(truncated ? { truncated } : {}) };
}
