/**
 * A Bloom filter of trace ids: "maybe here" or "surely not here", with about 1% false positives at its
 * sizing (9.6 bits and 7 probes an id). Probes come from two FNV-1a hashes of the id's text (double
 * hashing): trace ids are meant to be random, but nothing makes a sender's so.
 */
export interface TraceBloomShape {
  /** Bits in the filter (a multiple of 8). */
  bits: number;
  /** Probes per id. */
  hashes: number;
}

const BITS_PER_ID = 9.6;
const HASHES = 7;

/** The shape of a filter for `ids` distinct ids. */
export function traceBloomShape(ids: number): TraceBloomShape {
  return { bits: Math.max(64, Math.ceil((ids * BITS_PER_ID) / 8) * 8), hashes: HASHES };
}

function fnv1a(text: string, basis: number): number {
  let hash = basis;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The bit positions an id probes. */
function probes(id: string, shape: TraceBloomShape): number[] {
  const h1 = fnv1a(id, 0x811c9dc5);
  const h2 = fnv1a(id, 0x050c5d1f) | 1;
  return Array.from({ length: shape.hashes }, (_, i) => (h1 + Math.imul(i, h2)) >>> 0).map(
    (h) => h % shape.bits,
  );
}

/**
 * A filter holding `ids`.
 *
 * @example const bytes = traceBloom(["4bf92f3577b34da6a3ce929d0e0e4736"], traceBloomShape(1));
 */
export function traceBloom(ids: Iterable<string>, shape: TraceBloomShape): Uint8Array {
  const bytes = new Uint8Array(shape.bits / 8);
  for (const id of ids) {
    for (const bit of probes(id, shape)) bytes[bit >>> 3] = (bytes[bit >>> 3] as number) | (1 << (bit & 7));
  }
  return bytes;
}

/**
 * Whether the filter may hold `id` (false: it surely does not).
 *
 * @example if (!mayHoldTrace(bytes, shape, traceId)) skip(folder);
 */
export function mayHoldTrace(bytes: Uint8Array, shape: TraceBloomShape, id: string): boolean {
  if (bytes.length * 8 !== shape.bits) return true;
  return probes(id, shape).every((bit) => ((bytes[bit >>> 3] as number) & (1 << (bit & 7))) !== 0);
}
