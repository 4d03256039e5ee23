import type { DuckDb } from "../duckdb.ts";
import { recordShare, sqlTimestamp } from "../query/sql.ts";
import { eachBatch, guard, MERGE_BUDGET, type Ranked } from "./source-batches.ts";

/** A time slice of the output: epoch ms, `lo` inclusive, `hi` exclusive, unbounded when undefined. */
export interface Slice {
  lo: number | undefined;
  hi: number | undefined;
}

/** The sources that may hold rows of `slice`, by the time range their metadata records. */
export const overlapping = (ranked: readonly Ranked[], { lo, hi }: Slice): Ranked[] =>
  ranked.filter(
    ({ source }) => (lo === undefined || source.newest >= lo) && (hi === undefined || source.oldest < hi),
  );

/** The WHERE (with its keyword, or nothing) that keeps a source's rows of `slice`. */
export const sliceWhere = ({ lo, hi }: Slice): string => {
  const where = [
    ...(lo === undefined ? [] : [`ts >= ${sqlTimestamp(lo)}`]),
    ...(hi === undefined ? [] : [`ts < ${sqlTimestamp(hi)}`]),
  ];
  return where.length ? ` WHERE ${where.join(" AND ")}` : "";
};

/**
 * The JOIN and WHERE, over rows `s` with their source's `_rank`, that drop every copy of a record id the census
 * found with several times except the one it chose: slices of time then hold each record once between them.
 */
export const winnersOnly = (winners: string): string =>
  ` LEFT JOIN ${winners} w ON s.record_id = w.record_id WHERE w.record_id IS NULL OR (epoch_ms(s.ts) = w.t AND s._rank = w.r)`;

/**
 * Reads every source's record ids and times, `MERGE_BUDGET.censusRows` at most at once (passes by id hash):
 * returns how many rows each second holds, and fills `winners` with the copy to keep of every record id
 * stored with more than one time.
 */
export async function census(
  db: DuckDb,
  bucket: R2Bucket,
  ranked: readonly Ranked[],
  winners: string,
  prefix: string,
  estimated: number,
  report: { rowsIn: number; bytesRead: number },
): Promise<Map<number, number>> {
  const histogram = new Map<number, number>();
  const passes = Math.max(1, Math.ceil(estimated / MERGE_BUDGET.censusRows));
  const table = `${prefix}_census`;
  for (let pass = 0; pass < passes; pass++) {
    guard(db, () => db.query(`CREATE TABLE ${table} (record_id UUID, t BIGINT, r INTEGER)`));
    try {
      const where = passes > 1 ? ` WHERE ${recordShare(passes, pass)}` : "";
      await eachBatch(db, bucket, ranked, report, (name, rank) =>
        db.query(
          `INSERT INTO ${table} SELECT record_id, epoch_ms(ts), ${rank} FROM read_parquet('${name}')${where}`,
        ),
      );
      guard(db, () => {
        for (const row of db.query(
          `SELECT t // 1000 AS s, count(*)::INTEGER AS n FROM ${table} GROUP BY s`,
        )) {
          const second = Number(row.s);
          histogram.set(second, (histogram.get(second) ?? 0) + Number(row.n));
          report.rowsIn += Number(row.n);
        }
        // 2^48: the rank above any epoch ms, so one key orders by rank, then time.
        db.query(
          `INSERT INTO ${winners} SELECT record_id, arg_min(t, k), arg_min(r, k) FROM ` +
            `(SELECT record_id, t, r, r::BIGINT * 281474976710656 + t AS k FROM ${table}) ` +
            "GROUP BY record_id HAVING min(t) <> max(t)",
        );
      });
    } finally {
      db.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
  return histogram;
}

/** Cuts the seconds into slices of at most `rows` rows (a second holding more is a slice of its own). */
export function slicesOf(histogram: Map<number, number>, rows: number): Slice[] {
  const seconds = [...histogram.keys()].sort((a, b) => a - b);
  const cuts: number[] = [];
  let held = 0;
  for (const second of seconds) {
    const n = histogram.get(second) ?? 0;
    if (held > 0 && held + n > rows) {
      cuts.push(second * 1000);
      held = 0;
    }
    held += n;
  }
  return [undefined, ...cuts].map((lo, i) => ({ lo, hi: cuts[i] }));
}
