import type { TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import type { AppliedWindow, QueryAnswer } from "../../../../shared/telemetry/query-results.ts";
import type { ScanOutcome } from "./scan.ts";

/**
 * Epoch ms as the API writes times: RFC 3339, UTC, milliseconds.
 *
 * @example iso(0) // "1970-01-01T00:00:00.000Z"
 */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** @example appliedWindow({ since: 0, until: 1 }) // { since: "1970-…00.000Z", until: "1970-…00.001Z" } */
export const appliedWindow = (window: TimeWindow): AppliedWindow => ({
  since: iso(window.since),
  until: iso(window.until),
});

/**
 * The fields every answer has about what was read.
 *
 * @example return { window: appliedWindow(window), ...scanAnswer(outcome), series };
 */
export function scanAnswer(outcome: ScanOutcome, truncatedReason?: string): Omit<QueryAnswer, "window"> {
  const reason = outcome.truncated ?? truncatedReason;
  return {
    truncated: reason !== undefined,
    ...(reason === undefined ? {} : { truncated_reason: reason }),
    scanned: {
      objects: outcome.objects,
      bytes: outcome.bytes,
      skipped: outcome.skipped,
      ...(outcome.rollups === undefined ? {} : { rollups: outcome.rollups }),
      ...(outcome.hour_rollups === undefined ? {} : { hour_rollups: outcome.hour_rollups }),
    },
  };
}

/**
 * A stored JSON column's text as an object; text that is not a JSON object (a file written elsewhere) is
 * kept whole rather than failing the query.
 *
 * @example jsonObject('{"gear_id":"router"}') // { gear_id: "router" }
 */
export function jsonObject(text: unknown): Record<string, unknown> {
  if (typeof text !== "string" || text === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  return { _text: text };
}
