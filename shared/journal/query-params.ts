import * as z from "zod";
import {
  cursorField,
  ENTITY_ALLOWED,
  limitField,
  offsetField,
  type ParameterProblem,
  type TimeWindow,
  textParam,
  uuidParam,
  windowFields,
} from "../telemetry/query-params.ts";
import { JOURNAL_DIRECTIONS, JOURNAL_STATUSES, specIdSchema } from "./record.ts";

/**
 * The message query API's parameters (`GET /api/v1/messages`, `GET /api/v1/flux/{flux_id}`), shared by the
 * mixer and the CLI. Windows, paging and cursors follow the telemetry API's rules.
 */

/** `promoted.<field>=<value>` parameters: the prefix, and the bounds of what they may say. */
export const PROMOTED_FILTERS = {
  prefix: "promoted.",
  /** Filters one request may combine. */
  max: 8,
  /** A top-level key of `promoted`, as a spec names its fields. */
  field: /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/,
  maxValueLength: 256,
} as const;

const PROMOTED_FIELD_ALLOWED =
  "a field of promoted: a letter or _, then letters, digits, _ or -, up to 64 (promoted.pan, promoted.amount)";
const PROMOTED_VALUE_ALLOWED = `1 to ${PROMOTED_FILTERS.maxValueLength} characters (no NUL), compared with the text of the field's JSON value (a string's content, a number's or true/false/null's JSON text)`;

/**
 * How far around the time a flux id names the flux lookup reads when no since/until is given. A flow
 * finishes in seconds; a quarter of an hour after its first hop leaves room for retries and a slow hop, and
 * a minute before covers racks whose clocks run behind the one that made the id. That is the hour
 * partition the id names and at most the next (or, in the id's first minute, the previous), and within
 * them only the objects whose time range overlaps: a lookup costs the same however much is stored.
 * A flow held up longer (a guaranteed wire's backlog during an outage) is found by widening `until`.
 */
export const FLUX_LOOKUP = { beforeMs: 60_000, afterMs: 15 * 60_000, maxMessages: 1_000, maxLogs: 1_000 };

const includeRaw = z
  .enum(["true", "false"])
  .default("false")
  .transform((value) => value === "true")
  .describe("true or false (default false): also return raw_msg, the stored fluxMsg as base64");

export const messagesQuerySchema = z.strictObject({
  ...windowFields,
  flux_id: uuidParam.optional().describe("a flux id (a UUID)"),
  spec: specIdSchema
    .optional()
    .describe(
      "a fluxSpec id (letters, digits, _ or -, up to 64): only messages/fluxSpec/<spec>/; absent: generic and every spec",
    ),
  msg_type: textParam(255).optional().describe("1 to 255 characters (no NUL): the message type"),
  status: z
    .enum(JOURNAL_STATUSES)
    .optional()
    .describe(`one of ${JOURNAL_STATUSES.join(", ")}`),
  direction: z
    .enum(JOURNAL_DIRECTIONS)
    .optional()
    .describe(`one of ${JOURNAL_DIRECTIONS.join(", ")}`),
  entity: textParam(253).optional().describe(ENTITY_ALLOWED),
  gear_id: textParam(255)
    .optional()
    .describe("1 to 255 characters (no NUL): a gear, as the message's source or destination"),
  include_raw: includeRaw,
  limit: limitField,
  offset: offsetField,
  cursor: cursorField,
});

export const fluxQuerySchema = z.strictObject({ ...windowFields, include_raw: includeRaw });

export const fluxIdSchema = uuidParam.describe(
  "a flux id: a UUID v7 (its first 48 bits are the time it names)",
);

export type MessagesQuery = z.infer<typeof messagesQuerySchema> & {
  /** `promoted.<field>=<value>` filters, by field. */
  promoted?: Record<string, string> | undefined;
};
export type FluxQuery = z.infer<typeof fluxQuerySchema>;

/** Whether a query parameter is a promoted filter (handled by {@link promotedFilters}, not the schema). */
export const isPromotedParameter = (name: string): boolean => name.startsWith(PROMOTED_FILTERS.prefix);

/**
 * The `promoted.<field>=<value>` filters among a query's parameters, checked: each field named once, a
 * valid field name, a bounded value, at most {@link PROMOTED_FILTERS.max} of them. Other parameters are
 * ignored.
 *
 * @example promotedFilters({ "promoted.pan": ["411111******1111"] }) // { ok: true, filters: { pan: "411111******1111" } }
 */
export function promotedFilters(
  params: Record<string, string[]>,
): { ok: true; filters: Record<string, string> } | { ok: false; problem: ParameterProblem } {
  const filters: Record<string, string> = {};
  let count = 0;
  for (const [name, values] of Object.entries(params)) {
    if (!isPromotedParameter(name)) continue;
    const field = name.slice(PROMOTED_FILTERS.prefix.length);
    const value = values.join(", ");
    if (!PROMOTED_FILTERS.field.test(field)) {
      return { ok: false, problem: { parameter: name, value, allowed: PROMOTED_FIELD_ALLOWED } };
    }
    if (values.length > 1) return { ok: false, problem: { parameter: name, value, allowed: "given once" } };
    const given = values[0] ?? "";
    if (given === "" || given.length > PROMOTED_FILTERS.maxValueLength || given.includes("\u0000")) {
      return { ok: false, problem: { parameter: name, value, allowed: PROMOTED_VALUE_ALLOWED } };
    }
    if (++count > PROMOTED_FILTERS.max) {
      return {
        ok: false,
        problem: {
          parameter: name,
          value,
          allowed: `at most ${PROMOTED_FILTERS.max} promoted.<field> filters in one request`,
        },
      };
    }
    filters[field] = given;
  }
  return { ok: true, filters };
}

/**
 * The time a UUID v7 names (its first 48 bits, epoch ms), or undefined for another version.
 *
 * @example uuidV7Time("0190a0b0-0000-7000-8000-000000000001") // 1719792304128
 */
export function uuidV7Time(id: string): number | undefined {
  if (id[14] !== "7") return undefined;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/**
 * The window a flux lookup reads without since/until: around the time its id names ({@link FLUX_LOOKUP}).
 * Undefined when the id is not a UUID v7 (it names no time).
 *
 * @example fluxWindow("0190a0b0-0000-7000-8000-000000000001") // { since: named - 60 s, until: named + 15 min }
 */
export function fluxWindow(fluxId: string): TimeWindow | undefined {
  const named = uuidV7Time(fluxId);
  if (named === undefined) return undefined;
  return { since: Math.max(0, named - FLUX_LOOKUP.beforeMs), until: named + FLUX_LOOKUP.afterMs };
}
