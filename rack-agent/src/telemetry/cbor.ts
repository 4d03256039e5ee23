import { Encoder } from "cbor-x";

/**
 * The rack's CBOR codec: plain maps (no cbor-x record extension) and plain byte strings, so any CBOR
 * decoder on the mixer side reads what the rack writes.
 *
 * @example
 * const bytes = cbor.encode({ level: "info" });
 */
export const cbor = new Encoder({ useRecords: false, tagUint8Array: false });
