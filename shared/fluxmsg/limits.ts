import { encodeFluxMsg } from "./codec.ts";
import type { FluxMsg } from "./message.ts";

/** `rack.max_hops` and `rack.max_payload_size`: what a produced message may not exceed. */
export interface FluxLimits {
  maxHops: number;
  maxPayloadSize: number;
}

export type LimitCheck = { ok: true; bytes: number } | { ok: false; reason: string };

/**
 * Checks a message where it is produced: its path may hold at most `maxHops` hops (this is how a routing
 * loop dies) and its CBOR encoding at most `maxPayloadSize` bytes. Returns the reason instead of throwing,
 * since the caller dead-letters the message and goes on.
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
  const bytes = encodeFluxMsg(msg).byteLength;
  if (bytes > limits.maxPayloadSize) {
    return {
      ok: false,
      reason: `max_payload_size exceeded: ${bytes} bytes encoded, rack.max_payload_size is ${limits.maxPayloadSize}`,
    };
  }
  return { ok: true, bytes };
}
