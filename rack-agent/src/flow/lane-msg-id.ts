import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";

/**
 * The `Nats-Msg-Id` of a fluxMsg on a guaranteed lane: `<flux_id>:<route>`, where route is a 32-bit FNV-1a
 * hash of the gears and ports in its `path` (not the racks, not the times).
 *
 * - A republish of the same hop gets the same id, so JetStream drops it (within the stream's duplicate
 *   window, 2 minutes by default) and says so in the ack: an upstream message redelivered after a crash,
 *   processed again by any rack of the alias, does not cross the lane twice.
 * - Another hop of the same signal has another path (longer, or through other gears), so a flux_id that
 *   crosses the same lane twice, or reaches it by two branches, is not deduplicated away.
 * - Only a gear that emits several messages with one flux_id on one port from the same input is folded into
 *   one: such a gear should give each its own id (`newMessage`).
 *
 * @example js.publish(subject, encodeFluxMsg(msg), { msgID: laneMsgId(msg) });
 */
export function laneMsgId(msg: Pick<FluxMsg, "id" | "path">): string {
  let hash = FNV_OFFSET;
  for (const hop of msg.path) {
    for (const text of [hop.gear, ".", hop.port, "/"]) hash = fnvUpdate(hash, text);
  }
  return `${msg.id}:${hex(hash)}`;
}

/** 32-bit FNV-1a of `text` as 8 hex digits: a short, stable tag (not collision-proof: never an id alone). */
export function fnv1aHex(text: string): string {
  return hex(fnvUpdate(FNV_OFFSET, text));
}

const FNV_OFFSET = 0x811c9dc5;

function fnvUpdate(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

function hex(hash: number): string {
  return (hash >>> 0).toString(16).padStart(8, "0");
}
