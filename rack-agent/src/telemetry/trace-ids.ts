/** W3C Trace Context ids: random, lower-case hex, 16 bytes for a trace and 8 for a span. */

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (byte) =>
    byte.toString(16).padStart(2, "0"),
  ).join("");
}

/**
 * @example newTraceId(); // "4bf92f3577b34da6a3ce929d0e0e4736"
 */
export function newTraceId(): string {
  return randomHex(16);
}

/**
 * @example newSpanId(); // "00f067aa0ba902b7"
 */
export function newSpanId(): string {
  return randomHex(8);
}
