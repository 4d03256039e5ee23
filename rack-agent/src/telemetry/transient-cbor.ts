import { cbor } from "../../../shared/fluxmsg/cbor.ts";

/**
 * cbor-x's REUSE_BUFFER_MODE | RESET_BUFFER_MODE (encode.js 1.6; its types have neither): return the encoder's
 * own buffer with the bytes between `start` and `end`, and let the next encode start over there.
 */
const REUSE_AND_RESET = 512 | 1024;

/** The shared encoder, typed for the mode argument its types leave out. */
const encoder = cbor as unknown as {
  encode(value: unknown, mode: number): Uint8Array & { start: number; end: number };
};

/**
 * `value` as CBOR, in the shared encoder's own buffer: valid only until the next encode, so copy it first. A
 * record copied into its batch needs no buffer of its own (cbor-x otherwise hands out views of fresh 8 KiB
 * buffers, one per ~20 records).
 *
 * @example batch.add(encodeTransient(record)); // add() copies
 */
export function encodeTransient(value: unknown): Uint8Array {
  const target = encoder.encode(value, REUSE_AND_RESET);
  return target.subarray(target.start, target.end);
}
