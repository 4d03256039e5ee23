const PARTITION =
  /^(?:telemetry\/[^/]+|messages\/generic|messages\/fluxSpec\/[^/]+)\/(\d{4})\/(\d{2})\/(\d{2})(?:\/(\d{2}))?\//;

/**
 * The time span a stored object's partition covers, read from its key
 * (`telemetry/logs/2025/12/21/14/…` is the hour from 14:00 UTC; without the hour it is the whole day).
 * Undefined for keys outside the reference's layout, which retention never touches.
 *
 * @example partitionSpan("telemetry/logs/2025/12/21/14/logs_001.parquet")
 */
export function partitionSpan(key: string): { start: number; end: number } | undefined {
  const m = PARTITION.exec(key);
  if (!m) return undefined;
  const [year, month, day, hour] = [m[1], m[2], m[3], m[4]].map((part) =>
    part === undefined ? undefined : Number(part),
  );
  const start = Date.UTC(year as number, (month as number) - 1, day as number, hour ?? 0);
  return { start, end: start + (hour === undefined ? 86_400_000 : 3_600_000) };
}
