/**
 * W3C Trace Context `traceparent` (version 00): `00-<trace id: 32 hex>-<parent span id: 16 hex>-<flags: 2 hex>`.
 * A fluxMsg carries one so that every hop of a message is a span of the same trace, on any rack.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** What a traceparent says: the trace, the span that is the parent of the next one, and the sampled flag. */
export interface TraceParent {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

/**
 * Parses a traceparent, or returns undefined when it is not one (wrong shape, all-zero ids, upper-case hex).
 *
 * @example parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?.sampled // true
 */
export function parseTraceparent(text: string): TraceParent | undefined {
  const m = TRACEPARENT.exec(text);
  if (!m || m[1] === ZERO_TRACE || m[2] === ZERO_SPAN) return undefined;
  return {
    traceId: m[1] as string,
    spanId: m[2] as string,
    sampled: (Number.parseInt(m[3] as string, 16) & 1) === 1,
  };
}

/**
 * @example formatTraceparent({ traceId, spanId, sampled: true }) // "00-<traceId>-<spanId>-01"
 */
export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${parent.sampled ? "01" : "00"}`;
}

/** Why a string is not a traceparent, for schema errors. */
export const TRACEPARENT_EXPECTED =
  'expected a W3C traceparent "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>" with non-zero ids';
