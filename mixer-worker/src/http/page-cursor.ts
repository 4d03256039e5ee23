import * as z from "zod";
import { CURSOR_ALLOWED, QUERY_LIMITS, resolveWindow } from "../../../shared/telemetry/query-params.ts";
import type { MixerEnv } from "../env.ts";
import type { ListCursor } from "../store/index.ts";
import { badParameter } from "./query-params.ts";
import { openToken, sealToken } from "./signed-token.ts";

const epochMs = z.number().int().min(QUERY_LIMITS.earliestMs).max(QUERY_LIMITS.latestMs);

/** A cursor's payload. Signed, so only the mixer made it; still checked whole, as the window rule may change. */
const cursorPayload = z
  .object({
    s: epochMs,
    u: epochMs,
    t: epochMs,
    i: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
  })
  // The rule a request's own window obeys (since not after until, at most 7 days).
  .refine(({ s, u }) => resolveWindow({ since: { at: s }, until: { at: u } }, u, 0).ok)
  .transform(({ s, u, t, i }): ListCursor => ({ since: s, until: u, ts: t, id: i }));

/** Parameters a cursor is not bound to: the page size, and what the cursor itself replaces. */
const UNBOUND = new Set(["since", "until", "limit", "offset", "cursor"]);

/** What a cursor is good for: its endpoint and every filter of the query that made it. */
function cursorScope(endpoint: string, query: Record<string, unknown>): string {
  const filters = Object.entries(query)
    .filter(([name, value]) => value !== undefined && !UNBOUND.has(name))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([endpoint, filters]);
}

/**
 * The `next` token of a page: its position and window, signed and bound to the endpoint and the filters.
 *
 * @example next: await sealPageCursor(c.env, "logs", query, answer.next)
 */
export async function sealPageCursor(
  env: MixerEnv,
  endpoint: string,
  query: Record<string, unknown>,
  cursor: ListCursor | null,
): Promise<string | null> {
  if (!cursor) return null;
  const payload = { s: cursor.since, u: cursor.until, t: cursor.ts, i: cursor.id };
  return sealToken(env, cursorScope(endpoint, query), payload);
}

/**
 * The position a request's `cursor` names, or undefined without one. A cursor this mixer did not make for
 * this endpoint and these filters is a 400 naming `cursor`.
 *
 * @example const cursor = await openPageCursor(c.env, "logs", query);
 */
export async function openPageCursor(
  env: MixerEnv,
  endpoint: string,
  query: Record<string, unknown> & { cursor?: string | undefined },
): Promise<ListCursor | undefined> {
  if (query.cursor === undefined) return undefined;
  const cursor = await openToken(env, cursorScope(endpoint, query), query.cursor, cursorPayload);
  if (!cursor) throw badParameter({ parameter: "cursor", value: query.cursor, allowed: CURSOR_ALLOWED });
  return cursor;
}
