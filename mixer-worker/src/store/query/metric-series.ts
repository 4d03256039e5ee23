import type { MetricRecord } from "../../../../shared/telemetry/records.ts";

/** One bucket of one series as one batch aggregated it. */
export interface PartialPoint {
  name: string;
  type: MetricRecord["type"];
  /** The group_by value as stored (JSON-escaped for labels), or null. */
  grp: string | null;
  /** Bucket start, epoch ms. */
  bucket: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** The value of the latest point, and its order key (zero-padded epoch ms, then record id). */
  last: number;
  lastKey: string;
}

export type MergedPoint = Omit<PartialPoint, "name" | "type" | "grp" | "lastKey">;

export interface MergedSeries {
  name: string;
  type: MetricRecord["type"];
  grp: string | null;
  points: MergedPoint[];
}

/** Text in code point order, which is DuckDB's (byte-wise UTF-8) order; JS `<` compares UTF-16 units. */
function compareText(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = (left[i]?.codePointAt(0) ?? 0) - (right[i]?.codePointAt(0) ?? 0);
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

/** Series order: name, type, then group value with null last (as the SQL's ORDER BY … NULLS LAST). */
function compareSeries(a: Omit<MergedSeries, "points">, b: Omit<MergedSeries, "points">): number {
  return (
    compareText(a.name, b.name) ||
    compareText(a.type, b.type) ||
    (a.grp === b.grp ? 0 : a.grp === null ? 1 : b.grp === null ? -1 : compareText(a.grp, b.grp))
  );
}

/**
 * Merges per-batch partial aggregates into series: count and sum add up, min and max fold, the latest value
 * wins by time. Keeps only the first `limit` series in series order, so memory stays at `limit` series
 * however many the data holds; `more` tells that some were left out.
 *
 * @example
 * const set = new MetricSeriesSet(50);
 * set.add(batchPoints);
 * const series = set.series(); // sorted, points by bucket
 */
type HeldSeries = Omit<MergedSeries, "points"> & { buckets: Map<number, PartialPoint> };

export class MetricSeriesSet {
  private readonly byKey = new Map<string, HeldSeries>();
  /** True once a series beyond `limit` was seen and dropped. */
  more = false;

  constructor(private readonly limit: number) {}

  add(points: readonly PartialPoint[]): void {
    for (const point of points) {
      const key = JSON.stringify([point.name, point.type, point.grp]);
      let series = this.byKey.get(key);
      if (!series) {
        series = { name: point.name, type: point.type, grp: point.grp, buckets: new Map() };
        this.byKey.set(key, series);
      }
      const held = series.buckets.get(point.bucket);
      if (!held) {
        series.buckets.set(point.bucket, { ...point });
        continue;
      }
      held.count += point.count;
      held.sum += point.sum;
      held.min = Math.min(held.min, point.min);
      held.max = Math.max(held.max, point.max);
      if (point.lastKey > held.lastKey) {
        held.last = point.last;
        held.lastKey = point.lastKey;
      }
    }
    if (this.byKey.size > this.limit) {
      this.more = true;
      const ordered = [...this.byKey].sort(([, a], [, b]) => compareSeries(a, b));
      for (const [key] of ordered.slice(this.limit)) this.byKey.delete(key);
    }
  }

  /** The series held, in series order, each with its points by bucket. */
  series(): MergedSeries[] {
    return [...this.byKey.values()].sort(compareSeries).map(({ buckets, ...series }) => ({
      ...series,
      points: [...buckets.values()]
        .sort((a, b) => a.bucket - b.bucket)
        .map(({ bucket, count, sum, min, max, last }) => ({ bucket, count, sum, min, max, last })),
    }));
  }
}
