import type { FluxRange } from "./rows/stored-row.ts";

/**
 * The range of flux ids an object's records carry, kept in its R2 custom metadata by the writer, so a lookup
 * by flux id reads only the objects that may hold it, from the listing alone. Flux ids are UUID v7: their
 * text sorts by the time they name, and the messages of one flush name times close together, so ranges are
 * narrow and rarely overlap a given id.
 */

/**
 * The custom metadata recording the flux range covering every row's (canonical lower-case text), or
 * `flux_ids: "0"` when no row carries one (most telemetry: such an object holds no flux at all).
 *
 * @example await bucket.put(key, bytes, { customMetadata: { ...fluxRangeMetadata(rows) } });
 */
export function fluxRangeMetadata(rows: readonly { flux: FluxRange | null }[]): Record<string, string> {
  let min: string | undefined;
  let max: string | undefined;
  let last: FluxRange | null = null;
  for (const { flux } of rows) {
    // The rows of one message share their range: each is compared once.
    if (flux === null || flux === last) continue;
    last = flux;
    if (min === undefined || flux.min < min) min = flux.min;
    if (max === undefined || flux.max > max) max = flux.max;
  }
  return fluxRangeFields(min, max);
}

/**
 * The custom metadata of a flux id range (lowest and highest canonical lower-case text; none for an object
 * that holds no flux).
 *
 * @example fluxRangeFields(undefined, undefined) // { flux_ids: "0" }
 */
export function fluxRangeFields(min: string | undefined, max: string | undefined): Record<string, string> {
  return min === undefined || max === undefined ? { flux_ids: "0" } : { flux_min: min, flux_max: max };
}

/**
 * Whether an object may hold records of `fluxId`: false only when its metadata records a flux id range
 * without it (an object written before the range was kept may hold anything).
 *
 * @example mayHoldFlux(object.customMetadata, "0192…") // false: read no further
 */
export function mayHoldFlux(metadata: Record<string, string> | undefined, fluxId: string): boolean {
  if (metadata?.flux_ids === "0") return false;
  const min = metadata?.flux_min;
  const max = metadata?.flux_max;
  if (min === undefined || max === undefined) return true;
  const id = fluxId.toLowerCase();
  return id >= min && id <= max;
}
