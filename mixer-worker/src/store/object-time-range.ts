/**
 * The event-time range of a stored object's records, kept in its R2 custom metadata by the writer so the
 * query planner can skip objects from the listing alone, without fetching a footer.
 */
export interface ObjectTimeRange {
  /** Epoch ms of the oldest and newest record, both inclusive. */
  min: number;
  max: number;
}

/**
 * The custom metadata that records `records`' time range.
 *
 * @example await bucket.put(key, bytes, { customMetadata: { ...timeRangeMetadata(records) } });
 */
export function timeRangeMetadata(records: readonly { ts: number }[]): Record<string, string> {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const { ts } of records) {
    if (ts < min) min = ts;
    if (ts > max) max = ts;
  }
  return { ts_min: String(min), ts_max: String(max) };
}

/**
 * The time range an object's custom metadata records, or undefined for objects written without it.
 *
 * @example objectTimeRange({ ts_min: "1000", ts_max: "2000" }) // { min: 1000, max: 2000 }
 */
export function objectTimeRange(metadata: Record<string, string> | undefined): ObjectTimeRange | undefined {
  const min = Number(metadata?.ts_min ?? Number.NaN);
  const max = Number(metadata?.ts_max ?? Number.NaN);
  return Number.isSafeInteger(min) && Number.isSafeInteger(max) && min <= max ? { min, max } : undefined;
}
