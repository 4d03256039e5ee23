/**
 * A batch travels the bus deflated: the CBOR map `{"deflate": <bytes>}` whose bytes are the raw DEFLATE
 * (RFC 1951) of the whole `{v, kind, records}` batch. Racks' batches are repetitive (every record repeats its
 * keys, its rack's entity, its gear names): deflate level 1 shrinks them 4–20x for about 2 ms a MiB, and in
 * the mixer's isolate receiving 1 MB messages through nats.js costs about 7 ms of CPU a MB (more than decoding
 * them). The envelope is self-describing, so a spooled batch replays as it was sealed, and a plain
 * `{v, kind, records}` batch (no envelope) is still taken.
 *
 * The rack deflates with node:zlib (rack-agent/src/telemetry/batch-deflate.ts), the mixer inflates with the
 * runtime's DecompressionStream (mixer-worker/src/ingest/inflate-batch.ts); this holds the framing both read.
 */

/** `a1 67 "deflate"`: a map of one pair whose key is the 7-byte text "deflate". */
const HEAD = Uint8Array.from([0xa1, 0x67, ...new TextEncoder().encode("deflate")]);
/** The byte string's head: major type 2 with a 4-byte length. */
const BYTES_HEAD = 0x5a;

/**
 * The envelope around deflated bytes.
 *
 * @example publish(subject, envelope(deflateRawSync(batch, { level: 1 })));
 */
export function envelope(deflated: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEAD.length + 5 + deflated.length);
  out.set(HEAD);
  out[HEAD.length] = BYTES_HEAD;
  new DataView(out.buffer).setUint32(HEAD.length + 1, deflated.length);
  out.set(deflated, HEAD.length + 5);
  return out;
}

/**
 * The deflated bytes a message carries, or undefined when it is not an envelope (a plain batch, or anything
 * else: the batch decoder then says what is wrong with it).
 *
 * @example const deflated = envelopeContents(msg.data); // undefined: decode msg.data as it is
 */
export function envelopeContents(data: Uint8Array): Uint8Array | undefined {
  const start = HEAD.length + 5;
  if (data.length < start || data[HEAD.length] !== BYTES_HEAD) return undefined;
  for (let i = 0; i < HEAD.length; i++) if (data[i] !== HEAD[i]) return undefined;
  const length = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(HEAD.length + 1);
  return start + length === data.length ? data.subarray(start) : undefined;
}
