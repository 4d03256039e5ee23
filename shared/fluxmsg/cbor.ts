import { Encoder } from "cbor-x";

/**
 * The platform's CBOR codec, used by rack and mixer alike: plain maps (no cbor-x record extension) and
 * plain byte strings, so any CBOR decoder on the other side reads what this one writes.
 *
 * @example
 * const bytes = cbor.encode({ level: "info" });
 */
export const cbor = new Encoder({ useRecords: false, tagUint8Array: false });
