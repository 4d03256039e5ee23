import type { Context } from "hono";
import {
  QUERY_LIMITS,
  resolveWindow,
  type TimeSpec,
  type TimeWindow,
} from "../../../shared/telemetry/query-params.ts";
import type { PageAnswer } from "../../../shared/telemetry/query-results.ts";
import type { MixerBindings } from "../env.ts";
import { openPageCursor, sealPageCursor } from "../http/page-cursor.ts";
import { badParameter } from "../http/query-params.ts";
import type { PagedRequest, StoredPage } from "../store/index.ts";

/** What the query routes share: the window of a request, and newest-first pages with signed cursors. */

type Windowed = { since?: TimeSpec | undefined; until?: TimeSpec | undefined };
type Paged = Windowed & { offset: number; cursor?: string | undefined };

/** The window of a request, from its since/until (see resolveWindow), or a 400 naming the culprit. */
export function windowOf(c: Context, given: Windowed, defaultMs: number): TimeWindow {
  const raw = { since: c.req.query("since"), until: c.req.query("until") };
  const resolved = resolveWindow(given, Date.now(), defaultMs, raw);
  if (!resolved.ok) throw badParameter(resolved.problem);
  return resolved.window;
}

/**
 * One newest-first page of `endpoint`: checks paging and the window, opens the request's cursor, and signs
 * the answer's `next` for the same endpoint and filters.
 */
export async function page<Q extends Paged, A extends PageAnswer>(
  c: Context<MixerBindings>,
  endpoint: string,
  query: Q,
  read: (query: PagedRequest<Q>, window: TimeWindow) => Promise<StoredPage<A>>,
): Promise<Response> {
  // Offset counts from the start of the window; a cursor already says where the page starts.
  if (query.cursor !== undefined && query.offset > 0) {
    throw badParameter({
      parameter: "offset",
      value: String(query.offset),
      allowed: "0 (or absent) together with cursor: the cursor already says where the page starts",
    });
  }
  const window = windowOf(c, query, QUERY_LIMITS.defaultListWindowMs);
  const cursor = await openPageCursor(c.env, endpoint, query);
  const answer = await read({ ...query, cursor }, window);
  return c.json({ ...answer, next: await sealPageCursor(c.env, endpoint, query, answer.next) });
}
