import { STORED_AS_PATTERN } from "../../../../shared/storage/object-keys.ts";
import type { TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import type { PageAnswer } from "../../../../shared/telemetry/query-results.ts";
import { appliedWindow, scanAnswer } from "./answer.ts";
import { scanWindow } from "./scan.ts";
import { sqlString, sqlTimestamp } from "./sql.ts";

/**
 * A position in a newest-first listing, with the window it pages through: rows strictly older (by ts, then
 * record id) come next. The API hands it out as a signed token (mixer-worker/src/http/page-cursor.ts).
 */
export interface ListCursor {
  since: number;
  until: number;
  ts: number;
  id: string;
}

/** A list query as the store takes it: its `cursor` already opened (checked and decoded) by the API. */
export type PagedRequest<Q extends { cursor?: string | undefined }> = Omit<Q, "cursor"> & {
  cursor?: ListCursor | undefined;
};

/** A page's answer as the store gives it: `next` is where the following page starts, null on the last. */
export type StoredPage<A extends PageAnswer> = Omit<A, "next"> & { next: ListCursor | null };

/** What every listed row carries: its time (epoch ms) and record id, the listing's order and dedupe key. */
export interface ListedRow {
  ts: number;
  record_id: string;
}

/** What a page selects: the SQL of each batch comes from this alone (see {@link pageSql}). */
export interface PageSelection {
  window: TimeWindow;
  /** A previous page's `next`: its window replaces `window`, and rows older than its position follow. */
  cursor?: ListCursor | undefined;
  /** The SELECT list; it must yield `ts` (TIMESTAMP) and `record_id` (as text). */
  select: string;
  /** SQL conditions besides the window and the cursor, ANDed. */
  filters: string[];
  /** Only rows of this flux id; objects whose metadata says they hold none are not read. */
  fluxId?: string | undefined;
}

export interface PageQuery<Row extends ListedRow> extends PageSelection {
  bucket: R2Bucket;
  /** The storage roots listed, newest first across all of them (see {@link scanWindow}). */
  roots: readonly string[];
  offset: number;
  limit: number;
  /**
   * An exact check of rows a filter may over-match (attributes matched by regexp), on `columns`, which the
   * page's `select` must also yield.
   */
  check?: { columns: string[]; accept(row: Row): boolean };
}

const windowOf = ({ cursor, window }: PageSelection): TimeWindow =>
  cursor ? { since: cursor.since, until: cursor.until } : window;

/**
 * Which write stored a row: the ULID of its object's key (`logs_<ULID>.parquet`; a compacted object's first
 * source), which sorts by write time. Copies of one record id keep the first stored: a copy republished
 * later with another time (a forgery, or a replay) never replaces the record first written. Compaction keeps
 * the same copy (store/compaction/merge.ts).
 */
const STORED_AS = `regexp_extract(filename, ${sqlString(STORED_AS_PATTERN)}, 1) AS stored_as`;

/** A row as a batch gives it, with the write that stored it. */
type StoredRow<Row> = Row & { stored_as: string };

/** What the first step of a batch selects: the order and dedupe keys, and which write stored the row. */
const KEYS = ["ts", "record_id::VARCHAR AS record_id", STORED_AS];
/**
 * Ids one statement fetches rows for. Long IN lists parse slowly in DuckDB 0.9.1, and near 10k ids its wasm
 * build traps; deep pages (a large offset) select whole rows in one step instead.
 */
const MAX_IDS_PER_FETCH = 500;

/**
 * The SQL of a page over `from`: its newest `limit` rows in the window, after the cursor, matching the
 * filters, newest first, with the `select` columns (by default the page's own).
 *
 * @example pageSql({ window, select: "ts, record_id::VARCHAR AS record_id", filters: [] }, "read_parquet(['a'])", 51)
 */
export function pageSql(
  selection: PageSelection,
  from: string,
  limit: number,
  select = selection.select,
): string {
  const { cursor } = selection;
  const window = windowOf(selection);
  const where = [
    `ts >= ${sqlTimestamp(window.since)}`,
    `ts < ${sqlTimestamp(window.until)}`,
    ...(cursor
      ? [
          `(ts < ${sqlTimestamp(cursor.ts)} OR (ts = ${sqlTimestamp(cursor.ts)} AND record_id < ${sqlString(cursor.id)}))`,
        ]
      : []),
    ...(selection.fluxId ? [`flux_id = ${sqlString(selection.fluxId)}`] : []),
    ...selection.filters,
  ].join(" AND ");
  return `SELECT ${select} FROM ${from} WHERE ${where} ORDER BY ts DESC, record_id DESC LIMIT ${limit}`;
}

/**
 * The SQL fetching whole rows for keys a page selected; the time range lets the Parquet reader skip the
 * other rows' columns.
 */
function rowsSql(select: string, from: string, keys: readonly ListedRow[]): string {
  const times = keys.map((key) => key.ts);
  return (
    `SELECT ${select} FROM ${from} WHERE ts >= ${sqlTimestamp(Math.min(...times))} AND ts <= ${sqlTimestamp(Math.max(...times))} ` +
    `AND record_id IN (${[...new Set(keys.map((key) => sqlString(key.record_id)))].join(", ")})`
  );
}

/** Comes after every real record id, so a cursor at (t, MAX_ID) keeps every row at time t. */
const MAX_ID = "ffffffff-ffff-ffff-ffff-ffffffffffff";

/** Newest first: by time, then by record id, both descending (duplicates of a record sort together). */
const newestFirst = (a: ListedRow, b: ListedRow) =>
  b.ts - a.ts || (a.record_id < b.record_id ? 1 : a.record_id > b.record_id ? -1 : 0);

/**
 * Each record id once, as its first stored copy (the smallest `stored_as`; a copy of the same write keeps
 * the one met first).
 */
function firstStored<Row extends ListedRow>(rows: readonly StoredRow<Row>[]): StoredRow<Row>[] {
  const byId = new Map<string, StoredRow<Row>>();
  for (const row of rows) {
    const held = byId.get(row.record_id);
    if (!held || row.stored_as < held.stored_as) byId.set(row.record_id, row);
  }
  return [...byId.values()];
}

/**
 * One newest-first page of rows. Objects are read newest first; each batch's SQL returns only its newest
 * `offset + limit + 1` matching rows, and the scan stops once that many are held and no unread object can
 * hold a newer row. Rows are deduplicated by record id, keeping the first stored copy (at-least-once copies
 * share its sort key, so the newest N distinct rows of the whole window are among the newest N distinct
 * rows of the batches; a copy stored later with a newer time gives way to the original whenever the read
 * reaches the original's object).
 *
 * @example
 * const { rows, answer } = await newestPage({ bucket, roots: ["telemetry/logs"], window, offset: 0, limit: 50,
 *   select: "ts, message, record_id::VARCHAR AS record_id", filters: ["level = 'error'"] });
 */
export async function newestPage<Row extends ListedRow>(
  query: PageQuery<Row>,
): Promise<{ rows: Row[]; answer: StoredPage<PageAnswer> }> {
  const { cursor, offset, limit } = query;
  const window = windowOf(query);
  const need = offset + limit + 1;
  const keySelect = [...KEYS, ...(query.check?.columns ?? [])].join(", ");
  const rowSelect = `${query.select}, ${STORED_AS}`;
  const accept = query.check?.accept ?? (() => true);
  let kept: StoredRow<Row>[] = [];

  const outcome = await scanWindow<StoredRow<Row>>({
    bucket: query.bucket,
    roots: query.roots,
    filename: true,
    window: cursor ? { since: window.since, until: Math.min(window.until, cursor.ts + 1) } : window,
    fluxId: query.fluxId,
    batches: "overlapping",
    query(from, run) {
      // Keys first: ordering and limiting touch only the filter, time and id columns, so the other columns
      // are decoded just for the rows kept (in wasm DuckDB that is several times faster than one statement).
      const keysFirst = need <= MAX_IDS_PER_FETCH;
      for (let n = need; ; n *= 4) {
        const listed = run(
          pageSql(query, from, n, keysFirst ? keySelect : rowSelect),
        ) as unknown as StoredRow<Row>[];
        const kept = listed.filter(accept);
        // Widen while duplicates or over-matched rows leave a full batch short of `need` distinct rows.
        if (listed.length === n && new Set(kept.map((row) => row.record_id)).size < need) continue;
        if (!keysFirst) return kept;
        const rows: StoredRow<Row>[] = [];
        for (let i = 0; i < kept.length; i += MAX_IDS_PER_FETCH) {
          const ids = kept.slice(i, i + MAX_IDS_PER_FETCH);
          rows.push(...(run(rowsSql(rowSelect, from, ids)) as unknown as StoredRow<Row>[]));
        }
        return rows;
      }
    },
    collect(rows) {
      kept = firstStored([...kept, ...rows])
        .sort(newestFirst)
        .slice(0, need);
    },
    enough: (newest) => kept.length >= need && newest < (kept[need - 1]?.ts ?? 0),
  });

  const complete =
    outcome.boundary === undefined ? kept : kept.filter((row) => row.ts > (outcome.boundary ?? 0));
  const rows = complete
    .slice(offset, offset + limit)
    .map(({ stored_as: _, ...row }) => row as unknown as Row);
  const more = complete.length > offset + limit || outcome.truncated !== undefined;
  const last = rows.at(-1);
  const position = last
    ? { ts: last.ts, id: last.record_id }
    : outcome.boundary !== undefined
      ? { ts: outcome.boundary, id: MAX_ID }
      : undefined;
  return {
    rows,
    answer: {
      window: appliedWindow(window),
      ...scanAnswer(outcome),
      limit,
      offset,
      next: more && position ? { ...window, ...position } : null,
    },
  };
}
