import { encodeFluxMsg } from "./codec.ts";
import type { FluxMsg } from "./message.ts";

/** `rack.max_hops` and `rack.max_payload_size`: what a produced message may not exceed. */
export interface FluxLimits {
  maxHops: number;
  maxPayloadSize: number;
}

export type LimitCheck = { ok: true } | { ok: false; reason: string };

/**
 * Size bounds of large `data` values already walked, so that a hop passing one on unchanged does not walk
 * it again. Small ones are walked each time: a WeakMap entry per message cost more, in scavenges, than that.
 */
const dataBounds = new WeakMap<object, number>();
const CACHED_FROM = 4_096;

/** At most this many CBOR bytes for a string (UTF-8 takes at most 3 bytes per UTF-16 unit, a header 9). */
const stringBound = (text: string | undefined) => (text === undefined ? 0 : 3 * text.length + 9);

/** At most this many CBOR bytes for a JSON-like value: a walk, far cheaper than encoding it. */
function valueBound(value: unknown): number {
  if (typeof value === "string") return stringBound(value);
  if (value === null || typeof value !== "object") return 9;
  if (value instanceof Uint8Array) return value.byteLength + 9;
  let size = 9;
  if (Array.isArray(value)) for (const item of value) size += valueBound(item);
  else
    for (const key in value) size += stringBound(key) + valueBound((value as Record<string, unknown>)[key]);
  return size;
}

/**
 * An upper bound of a message's encoded size, without encoding it (encoding the whole message on every hop
 * cost more than all the rest of a hop; so did encoding each new `data`).
 */
function sizeBound(msg: FluxMsg): number {
  let size = 128; // map headers and the field names
  size += stringBound(msg.id) + stringBound(msg.ref_id) + stringBound(msg.trace) + stringBound(msg.type);
  size += stringBound(msg.src.rack) + stringBound(msg.src.gear) + stringBound(msg.src.port);
  for (const key in msg.meta) size += stringBound(key) + stringBound(msg.meta[key]);
  for (const hop of msg.path)
    size += 32 + stringBound(hop.rack) + stringBound(hop.gear) + stringBound(hop.port);
  if (msg.raw) size += msg.raw.byteLength + 9;
  const { data } = msg;
  if (data === null || typeof data !== "object") return size + valueBound(data);
  let known = dataBounds.get(data);
  if (known === undefined) {
    known = valueBound(data);
    if (known >= CACHED_FROM) dataBounds.set(data, known);
  }
  return size + known;
}

/**
 * Checks a message where it is produced: its path may hold at most `maxHops` hops (this is how a routing
 * loop dies) and its CBOR encoding at most `maxPayloadSize` bytes (measured exactly only when a cheap upper
 * bound says it might not fit). Returns the reason instead of throwing, since the caller dead-letters the
 * message and goes on.
 *
 * @example
 * const check = checkLimits(msg, { maxHops: 64, maxPayloadSize: 2_097_152 });
 * if (!check.ok) deadLetter(msg, check.reason);
 */
export function checkLimits(msg: FluxMsg, limits: FluxLimits): LimitCheck {
  if (msg.path.length > limits.maxHops) {
    return {
      ok: false,
      reason: `max_hops exceeded: ${msg.path.length} hops, rack.max_hops is ${limits.maxHops} (a routing loop?)`,
    };
  }
  if (sizeBound(msg) <= limits.maxPayloadSize) return { ok: true };
  const bytes = encodeFluxMsg(msg).byteLength;
  if (bytes > limits.maxPayloadSize) {
    return {
      ok: false,
      reason: `max_payload_size exceeded: ${bytes} bytes encoded, rack.max_payload_size is ${limits.maxPayloadSize}`,
    };
  }
  return { ok: true };
}
