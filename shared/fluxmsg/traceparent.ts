/**
 * W3C Trace Context `traceparent` (version 00): `00-<trace id: 32 hex>-<parent span id: 16 hex>-<flags: 2 hex>`.
 * A fluxMsg carries one so that every hop of a message is a span of the same trace, on any rack.
 */
const LENGTH = 55;
const TRACE_START = 3;
const SPAN_START = 36;
const FLAGS_START = 53;

/** The value of a lower-case hex digit's char code, or -1. */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Whether `text[start, end)` is lower-case hex and not all zeros. */
function isNonZeroHex(text: string, start: number, end: number): boolean {
  let nonZero = false;
  for (let i = start; i < end; i++) {
    const digit = hexDigit(text.charCodeAt(i));
    if (digit < 0) return false;
    if (digit > 0) nonZero = true;
  }
  return nonZero;
}

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
  // Read by char code rather than a regex: every hop of every message parses one.
  if (text.length !== LENGTH || !text.startsWith("00-") || text[SPAN_START - 1] !== "-") return undefined;
  if (text[FLAGS_START - 1] !== "-" || hexDigit(text.charCodeAt(FLAGS_START)) < 0) return undefined;
  const flags = hexDigit(text.charCodeAt(FLAGS_START + 1));
  if (flags < 0 || !isNonZeroHex(text, TRACE_START, SPAN_START - 1)) return undefined;
  if (!isNonZeroHex(text, SPAN_START, FLAGS_START - 1)) return undefined;
  return {
    traceId: text.slice(TRACE_START, SPAN_START - 1),
    spanId: text.slice(SPAN_START, FLAGS_START - 1),
    sampled: (flags & 1) === 1,
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
