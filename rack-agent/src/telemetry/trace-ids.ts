/** W3C Trace Context ids: random, lower-case hex, 16 bytes for a trace and 8 for a span. */

/**
 * Random bytes are drawn in blocks: one `crypto.getRandomValues` call costs about as much as the 24 µs a
 * span id took when drawn alone, and every hop of every message makes one. Each id is one hex slice of the
 * block, a flat string: built a digit pair at a time, a trace id was 16 concatenations of garbage that the CBOR
 * encoder flattened again.
 */
const POOL_SIZE = 8_192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let used = POOL_SIZE;

function randomHex(bytes: number): string {
  if (used + bytes > POOL_SIZE) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  const hex = pool.toString("hex", used, used + bytes);
  used += bytes;
  return hex;
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
