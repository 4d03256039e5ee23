import type { MessagesQuery } from "../../../../shared/journal/query-params.ts";
import type { MessageEntry, MessagesAnswer } from "../../../../shared/journal/query-results.ts";
import { messagesRoot, SPEC_ROOTS_PREFIX } from "../../../../shared/storage/object-keys.ts";
import type { TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import { listPages } from "../list-pages.ts";
import { iso, jsonObject } from "./answer.ts";
import {
  type ListedRow,
  newestPage,
  type PagedRequest,
  type PageSelection,
  type StoredPage,
} from "./newest-page.ts";
import { jsonMemberTextPattern, sqlString } from "./sql.ts";

/**
 * Spec folders one request reads without `spec`: each adds a list call per day of the window, and Workers
 * cap subrequests per request.
 */
export const MAX_SPEC_FOLDERS = 100;

export type MessageRow = ListedRow &
  Omit<MessageEntry, "ts" | "promoted" | "spec" | "raw_msg"> & {
    promoted: string | null;
    /** The spec folder's name, or "" for messages/generic/. */
    spec: string;
    raw_msg?: string | null;
  };

const COLUMNS = [
  "ts",
  "trace_id",
  "flux_id::VARCHAR AS flux_id",
  "entity_id::VARCHAR AS entity_id",
  "entity_name",
  "src_gear_id",
  "dst_gear_id",
  "msg_type",
  "direction::VARCHAR AS direction",
  "status::VARCHAR AS status",
  "promoted::VARCHAR AS promoted",
  "record_id::VARCHAR AS record_id",
  // The registered name ends with the object's key (see scanWindow's `filename`).
  `regexp_extract(filename, ${sqlString(`/${SPEC_ROOTS_PREFIX}([^/]+)/`)}, 1) AS spec`,
];

/**
 * The SELECT list of a message as the API answers it; `raw_msg` (base64) only when asked, as it is the
 * bulk of a row. Needs `filename` on the scan.
 */
export function messageSelect(includeRaw: boolean): string {
  return [...COLUMNS, ...(includeRaw ? ["to_base64(raw_msg) AS raw_msg"] : [])].join(", ");
}

/**
 * A stored message as the API answers it.
 *
 * @example rows.map(messageEntry)
 */
export function messageEntry(row: MessageRow): MessageEntry {
  return {
    ...row,
    ts: iso(row.ts),
    spec: row.spec === "" ? null : row.spec,
    promoted: row.promoted === null ? null : jsonObject(row.promoted),
  };
}

/**
 * The storage roots a messages query reads: one spec's folder, or `messages/generic` and every spec folder
 * (listed with a delimiter, at most {@link MAX_SPEC_FOLDERS}; `more` says some were left out).
 *
 * @example const { roots } = await messageRoots(env.TELEMETRY, undefined);
 */
export async function messageRoots(
  bucket: R2Bucket,
  spec: string | undefined,
): Promise<{ roots: string[]; more: boolean }> {
  if (spec !== undefined) return { roots: [messagesRoot(spec)], more: false };
  const roots = [messagesRoot(null)];
  for await (const page of listPages(bucket, { prefix: SPEC_ROOTS_PREFIX, delimiter: "/" })) {
    for (const prefix of page.delimitedPrefixes) {
      if (roots.length > MAX_SPEC_FOLDERS) return { roots, more: true };
      roots.push(prefix.slice(0, -1));
    }
  }
  return { roots, more: false };
}

/** The text a promoted filter compares with: a string's content, any other value's JSON text. */
const promotedText = (value: unknown): string | undefined =>
  value === undefined ? undefined : typeof value === "string" ? value : JSON.stringify(value);

/**
 * Whether a message's stored `promoted` JSON holds every filter's field with that value's text.
 *
 * @example promotedMatches('{"amount":1250}', { amount: "1250" }) // true
 */
export function promotedMatches(promoted: string | null, filters: Record<string, string>): boolean {
  if (promoted === null) return false;
  const fields = jsonObject(promoted);
  return Object.entries(filters).every(
    ([field, value]) => Object.hasOwn(fields, field) && promotedText(fields[field]) === value,
  );
}

/**
 * What a messages query selects: the columns and the SQL conditions of its filters. Promoted filters are a
 * regular expression over the JSON text here, checked exactly on the rows it selects.
 *
 * @example pageSql(messagesSelection(query, window), from, 51)
 */
export function messagesSelection(
  query: Omit<PagedRequest<MessagesQuery>, "limit" | "offset">,
  window: TimeWindow,
): PageSelection {
  const filters: string[] = [];
  if (query.msg_type) filters.push(`msg_type = ${sqlString(query.msg_type)}`);
  if (query.status) filters.push(`status = ${sqlString(query.status)}`);
  if (query.direction) filters.push(`direction = ${sqlString(query.direction)}`);
  if (query.entity) filters.push(`entity_name = ${sqlString(query.entity)}`);
  if (query.gear_id) {
    const gear = sqlString(query.gear_id);
    filters.push(`(src_gear_id = ${gear} OR dst_gear_id = ${gear})`);
  }
  for (const [field, value] of Object.entries(query.promoted ?? {})) {
    filters.push(`regexp_matches(promoted::VARCHAR, ${jsonMemberTextPattern(field, value)})`);
  }
  return {
    window,
    cursor: query.cursor,
    select: messageSelect(query.include_raw),
    filters,
    fluxId: query.flux_id,
  };
}

/**
 * `GET /api/v1/messages`: one newest-first page of stored messages in the window matching every filter,
 * from one spec's folder or from all of `messages/`.
 *
 * @example const answer = await queryMessages(env.TELEMETRY, { status: "error", include_raw: false, limit: 50, offset: 0 }, window);
 */
export async function queryMessages(
  bucket: R2Bucket,
  query: PagedRequest<MessagesQuery>,
  window: TimeWindow,
): Promise<StoredPage<MessagesAnswer>> {
  const { roots, more } = await messageRoots(bucket, query.spec);
  const promoted = query.promoted ?? {};
  const { rows, answer } = await newestPage<MessageRow>({
    ...messagesSelection(query, window),
    bucket,
    roots,
    offset: query.offset,
    limit: query.limit,
    ...(Object.keys(promoted).length > 0
      ? {
          check: {
            columns: ["promoted::VARCHAR AS promoted"],
            accept: (row: MessageRow) => promotedMatches(row.promoted, promoted),
          },
        }
      : {}),
  });
  const cut = more && !answer.truncated;
  return {
    ...answer,
    ...(cut
      ? {
          truncated: true,
          truncated_reason: `more than ${MAX_SPEC_FOLDERS} spec folders; the first were read: give spec`,
        }
      : {}),
    messages: rows.map(messageEntry),
  };
}
