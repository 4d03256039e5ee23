/**
 * Whether a trace is kept at `rate` (observability.sampling_rate). The decision is a hash of the trace id, so
 * every span of a trace, on every rack with the same rate, gets the same answer: traces are kept or dropped
 * whole, never span by span.
 *
 * @example
 * isTraceSampled("4bf92f3577b34da6a3ce929d0e0e4736", 0.25); // same answer every time
 */
export function isTraceSampled(traceId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return fnv1a32(traceId) / 2 ** 32 < rate;
}

/** FNV-1a, 32 bits: cheap, stable across runtimes, and spreads random hex evenly. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
