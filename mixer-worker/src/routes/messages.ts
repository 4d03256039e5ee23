import { Hono } from "hono";
import { formatDuration } from "../../../shared/config/duration.ts";
import {
  FLUX_LOOKUP,
  fluxIdSchema,
  fluxQuerySchema,
  fluxWindow,
  isPromotedParameter,
  messagesQuerySchema,
  PROMOTED_FILTERS,
  promotedFilters,
} from "../../../shared/journal/query-params.ts";
import { QUERY_LIMITS } from "../../../shared/telemetry/query-params.ts";
import type { MixerBindings } from "../env.ts";
import { ProblemError } from "../http/problem.ts";
import { queryAdmission } from "../http/query-admission.ts";
import { badParameter, type OtherParameters, parseQuery, pathParam } from "../http/query-params.ts";
import { queryFlux, queryMessages } from "../store/index.ts";
import { page, windowOf } from "./query-page.ts";

const PROMOTED: OtherParameters = {
  owns: isPromotedParameter,
  shown: `${PROMOTED_FILTERS.prefix}<field>`,
};

/**
 * `GET /api/v1/messages`: stored business messages (the journal), newest first, filtered like telemetry logs
 * plus `promoted.<field>=<value>`.
 */
export const messages = new Hono<MixerBindings>().get("/", queryAdmission(), (c) => {
  const query = parseQuery(c, messagesQuerySchema, PROMOTED);
  const promoted = promotedFilters(c.req.queries());
  if (!promoted.ok) throw badParameter(promoted.problem);
  // Sorted, so a cursor is bound to the same filters whatever their order in the URL.
  const filters = Object.fromEntries(Object.entries(promoted.filters).sort(([a], [b]) => (a < b ? -1 : 1)));
  const withPromoted = { ...query, promoted: Object.keys(filters).length > 0 ? filters : undefined };
  return page(c, "messages", withPromoted, (paged, window) => queryMessages(c.env.TELEMETRY, paged, window));
});

/**
 * `GET /api/v1/flux/{flux_id}`: one business signal end to end (messages in hop order, spans, logs). Without
 * since/until it reads only around the time the UUID v7 names; a 404 names the flux id when nothing is found.
 */
export const flux = new Hono<MixerBindings>().get("/:flux_id", queryAdmission(), async (c) => {
  const fluxId = pathParam(c, "flux_id", fluxIdSchema);
  const query = parseQuery(c, fluxQuerySchema);
  const named = fluxWindow(fluxId);
  if (!named && query.since === undefined) {
    throw badParameter({
      parameter: "flux_id",
      value: fluxId,
      allowed: "a UUID v7 (its time says where to look), or any UUID together with since (and until)",
    });
  }
  const window = windowOf(
    c,
    {
      since: query.since ?? (named ? { at: named.since } : undefined),
      until: query.until ?? (named ? { at: named.until } : undefined),
    },
    QUERY_LIMITS.defaultListWindowMs,
  );
  const answer = await queryFlux(c.env.TELEMETRY, fluxId, window, { includeRaw: query.include_raw });
  const found = answer.messages.length + answer.spans.length + answer.logs.length;
  if (found === 0 && !answer.truncated) {
    throw new ProblemError({
      title: "Not Found",
      status: 404,
      parameter: "flux_id",
      detail: `no messages, spans or logs of flux ${fluxId} from ${answer.window.since} to ${answer.window.until}; since and until widen the search (by default it reads ${formatDuration(FLUX_LOOKUP.beforeMs)} before to ${formatDuration(FLUX_LOOKUP.afterMs)} after the time the id names, at most ${formatDuration(QUERY_LIMITS.maxWindowMs)})`,
    });
  }
  return c.json(answer);
});
