import { Encoder } from "cbor-x";

/**
 * The platform's CBOR codec, used by rack and mixer alike: plain maps (no cbor-x record extension) and
 * plain byte strings, so any CBOR decoder on the other side reads what this one writes. 64-bit integers
 * decode as numbers, not BigInt: a BigInt in a record's attributes cannot be written as JSON.
 *
 * @example
 * const bytes = cbor.encode({ level: "info" });
 */
export const cbor = new Encoder({
  useRecords: false,
  tagUint8Array: false,
  int64AsNumber: true,
} as ConstructorParameters<typeof Encoder>[0]);
