import { createHash } from "node:crypto";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { FluxMsgDecodeError, fluxMsgFromValue } from "../../../shared/fluxmsg/codec.ts";
import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import { fnv1aHex, laneMsgId } from "./lane-msg-id.ts";

/**
 * Lane frames: several fluxMsgs in one JetStream message, so a lane pays one store and one ack per frame
 * instead of per message.
 *
 * Wire form, version 1: the CBOR map `{f: 1, m: [[laneMsgId, fluxMsg CBOR bytes], …]}`. Each message keeps
 * its own lane message id (redelivery and duplicates stay visible per message) and its own bytes (one that
 * does not decode is dead-lettered alone, as it was published). A frame of one message is that message's
 * bare CBOR, exactly what lanes carried before frames: a reader takes a bare fluxMsg as a frame of one, so
 * messages stored by an older rack are still read. (A fluxMsg has no `f` key, so the two cannot be confused.)
 */
export const LANE_FRAME_VERSION = 1;

/** One message in a frame: its lane message id and its CBOR. */
export interface FrameEntry {
  id: string;
  data: Uint8Array;
}

/** A message read from a lane payload; `msg` is set when it was already decoded (a bare fluxMsg). */
export interface ReadEntry extends FrameEntry {
  msg?: FluxMsg;
}

/** The frame's own CBOR around its entries: map header, `f: 1`, `m` and the array header (5 bytes at most). */
export const FRAME_OVERHEAD = 16;

/** Bytes an entry adds to a frame, an upper bound: array(2) header, id text header, byte string header. */
export function entryBytes(entry: FrameEntry): number {
  return entry.data.length + entry.id.length + 12;
}

/**
 * How many entries from the head of `queue` go into the next frame: at most `maxMessages`, and at most
 * `maxBytes` encoded, except that one entry bigger than `maxBytes` goes alone (the server decides then).
 *
 * @example const frame = queue.splice(0, frameSize(queue, 256, 1_048_448));
 */
export function frameSize(queue: readonly FrameEntry[], maxMessages: number, maxBytes: number): number {
  let bytes = FRAME_OVERHEAD;
  let n = 0;
  while (n < queue.length && n < maxMessages) {
    const add = entryBytes(queue[n] as FrameEntry);
    if (n > 0 && bytes + add > maxBytes) break;
    bytes += add;
    n++;
  }
  return n;
}

/**
 * The payload of a frame: one entry is its bare fluxMsg CBOR, several the version-1 frame map.
 *
 * @example js.publish(subject, encodeLaneFrame(entries), { msgID: frameMsgId(subject, entries) });
 */
export function encodeLaneFrame(entries: readonly FrameEntry[]): Uint8Array {
  if (entries.length === 1) return (entries[0] as FrameEntry).data;
  return cbor.encode({ f: LANE_FRAME_VERSION, m: entries.map((entry) => [entry.id, entry.data]) });
}

/**
 * The `Nats-Msg-Id` of a frame, a function of its subject and its messages' ids only, so a publish retried
 * after a lost ack is recognised by JetStream as the same frame. One message: `<laneMsgId>@<subject hash>`;
 * several: `f1-` and 128 bits of SHA-256 over the subject and the ids. The subject is in it because one emit
 * can go onto two lanes (two wires from one port) with the same lane message id, and both must be stored.
 *
 * @example frameMsgId("flux.msg.core.sink.in", [{ id: laneMsgId(msg), data }]);
 */
export function frameMsgId(subject: string, entries: readonly FrameEntry[]): string {
  if (entries.length === 1) return `${(entries[0] as FrameEntry).id}@${fnv1aHex(subject)}`;
  // One string, one native call: hashing id by id costs more than the frame's encoding.
  const ids = entries.map((entry) => entry.id).join("\n");
  return `f1-${createHash("sha256").update(`${subject}\n${ids}`).digest("hex").slice(0, 32)}`;
}

/**
 * The messages of a lane payload: a frame's entries (each still CBOR, decoded by the reader one by one), or a
 * bare fluxMsg as a frame of one (already decoded, its id {@link laneMsgId}). Throws
 * {@link FluxMsgDecodeError} when the payload is neither: retrying cannot make it decode.
 *
 * @example for (const entry of readLanePayload(m.data)) handle(entry.msg ?? decodeFluxMsg(entry.data));
 */
export function readLanePayload(bytes: Uint8Array): ReadEntry[] {
  let value: unknown;
  try {
    value = cbor.decode(bytes);
  } catch (cause) {
    throw new FluxMsgDecodeError(`not CBOR: ${(cause as Error).message}`, [], { cause });
  }
  if (value === null || typeof value !== "object" || !("f" in value)) {
    const msg = fluxMsgFromValue(value);
    return [{ id: laneMsgId(msg), data: bytes, msg }];
  }
  const { f, m } = value as { f: unknown; m: unknown };
  if (f !== LANE_FRAME_VERSION) throw new FluxMsgDecodeError(`lane frame version ${String(f)} is not known`);
  if (!Array.isArray(m)) throw new FluxMsgDecodeError("lane frame without its message list");
  return m.map((entry: unknown, i) => {
    if (!Array.isArray(entry) || typeof entry[0] !== "string" || !(entry[1] instanceof Uint8Array))
      throw new FluxMsgDecodeError(`lane frame entry ${i} is not [id, bytes]`);
    const data = entry[1];
    // cbor-x gives Node Buffers: hand out plain Uint8Arrays, as decodeFluxMsg does.
    return { id: entry[0], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  });
}
