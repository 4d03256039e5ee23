import { getDuckDb } from "../duckdb.ts";
import { holdBytes } from "../isolate-memory.ts";
import { fluxRangeFields } from "../object-flux-range.ts";
import { duckDbType, type StoredColumn } from "../parquet-schema.ts";
import {
  parquetCopySql,
  storedColumnSql,
  type TelemetryCompression,
  writeParquetFrom,
} from "../parquet-writer.ts";
import { census, overlapping, type Slice, slicesOf, sliceWhere, winnersOnly } from "./census.ts";
import { eachBatch, guard, type MergeSource, rankSources, uniqueName } from "./source-batches.ts";

export { MERGE_BUDGET, MergeMemoryError, type MergeSource } from "./source-batches.ts";

/**
 * Rows per Parquet row group of a merged object. Sorted by time, a row group then spans a short stretch
 * of time, so that readers (native DuckDB, and the mixer's own filters on `ts`) skip the others by their
 * statistics; DuckDB's default (122,880) would put a busy hour's quarter into one.
 */
export const MERGED_ROW_GROUP_ROWS = 16_384;

/** One output part, to be stored. */
export interface MergedPart {
  bytes: Uint8Array;
  rows: number;
  /** Epoch ms of its oldest and newest row; undefined for a part left empty by deduplication. */
  tsMin: number | undefined;
  tsMax: number | undefined;
  /** Its R2 metadata for lookups by flux id (see object-flux-range.ts). */
  fluxRange: Record<string, string>;
}

export interface MergeOptions {
  bucket: R2Bucket;
  sources: readonly MergeSource[];
  /** The stored columns, in their order: the output has exactly these, with these types. */
  columns: readonly StoredColumn[];
  /** The SQL ORDER BY list of the output (over the columns). */
  orderBy: string;
  compression: TelemetryCompression;
  /** Rows one output part holds at most (before deduplication): what bounds the part's memory. */
  partRows: number;
  /** Stores part `part` (1-based) of `parts`; the parts stand in for the sources only once all are stored. */
  put(part: number, parts: number, merged: MergedPart): Promise<void>;
}

export interface MergeReport {
  parts: number;
  rowsIn: number;
  rowsOut: number;
  /** Source bytes fetched (a source spanning several parts' times is fetched for each). */
  bytesRead: number;
  bytesWritten: number;
}

/**
 * Merges stored objects of one partition into parts of at most `partRows` rows each, sorted, and
 * deduplicated by record id with the readers' rule: of copies of one record id, the one in the source first
 * stored (smallest `storedAs`; then the earliest time). Parts are slices of time, so that together they are
 * sorted too; when the sources hold more than one part's rows, a census (record id, time and source of
 * every row, a bounded number at a time) finds the ids whose copies have different times, and so may fall in
 * different parts, and which copy each keeps.
 *
 * @example
 * await mergeSources({ bucket, sources, columns: TELEMETRY_COLUMNS.logs, orderBy: "ts, record_id",
 *   compression: "zstd", partRows: 100_000, put: (part, parts, merged) => bucket.put(keyOf(part, parts), merged.bytes) });
 */
export async function mergeSources(options: MergeOptions): Promise<MergeReport> {
  const db = await getDuckDb();
  const prefix = uniqueName("merge_");
  const ranked = rankSources(options.sources);
  const report: MergeReport = { parts: 0, rowsIn: 0, rowsOut: 0, bytesRead: 0, bytesWritten: 0 };
  const estimated = options.sources.reduce((sum, source) => sum + source.rows, 0);
  const tables: string[] = [];
  try {
    let slices: Slice[] = [{ lo: undefined, hi: undefined }];
    let winners: string | undefined;
    if (estimated > options.partRows) {
      winners = `${prefix}_winners`;
      tables.push(winners);
      guard(db, () => db.query(`CREATE TABLE ${winners} (record_id UUID, t BIGINT, r INTEGER)`));
      const histogram = await census(db, options.bucket, ranked, winners, prefix, estimated, report);
      slices = slicesOf(histogram, options.partRows);
    }
    for (const [index, slice] of slices.entries()) {
      const table = `${prefix}_part`;
      tables.push(table);
      const columns = options.columns
        .map((column) => `"${column.name}" ${duckDbType(column.type)}`)
        .join(", ");
      guard(db, () => db.query(`CREATE TABLE ${table} (${columns}, _rank INTEGER)`));
      const select = options.columns.map(storedColumnSql).join(", ");
      await eachBatch(db, options.bucket, overlapping(ranked, slice), report, (name, rank) =>
        db.query(
          `INSERT INTO ${table} SELECT ${select}, ${rank} FROM read_parquet('${name}')${sliceWhere(slice)}`,
        ),
      );
      const deduped = dedupedSql(options.columns, table, winners);
      const merged = guard(db, () => {
        if (winners === undefined) {
          // Without a census, the part's table holds every source row: that is what came in.
          report.rowsIn += Number(db.query(`SELECT count(*)::INTEGER AS n FROM ${table}`)[0]?.n ?? 0);
        }
        // Objects without a flux_id column (metrics) hold no flux, as their writer records.
        const flux = options.columns.some((column) => column.name === "flux_id")
          ? "min(lower(flux_id::VARCHAR)) AS flux_min, max(lower(flux_id::VARCHAR)) AS flux_max"
          : "NULL AS flux_min, NULL AS flux_max";
        const [stats] = db.query(
          `SELECT count(*)::INTEGER AS n, epoch_ms(min(ts)) AS lo, epoch_ms(max(ts)) AS hi, ${flux} FROM (${deduped})`,
        );
        const bytes = writeParquetFrom(db, options.columns, (path) =>
          parquetCopySql(`SELECT * FROM (${deduped}) ORDER BY ${options.orderBy}`, path, {
            compression: options.compression,
            rowGroupRows: MERGED_ROW_GROUP_ROWS,
          }),
        );
        db.query(`DROP TABLE ${table}`);
        tables.pop();
        const rows = Number(stats?.n ?? 0);
        return {
          bytes,
          rows,
          tsMin: rows > 0 ? Number(stats?.lo) : undefined,
          tsMax: rows > 0 ? Number(stats?.hi) : undefined,
          fluxRange: fluxRangeFields(
            (stats?.flux_min as string | null) ?? undefined,
            (stats?.flux_max as string | null) ?? undefined,
          ),
        };
      });
      const release = holdBytes(merged.bytes.byteLength);
      try {
        await options.put(index + 1, slices.length, merged);
      } finally {
        release();
      }
      report.parts++;
      report.rowsOut += merged.rows;
      report.bytesWritten += merged.bytes.byteLength;
    }
    return report;
  } finally {
    for (const table of tables.reverse()) {
      try {
        db.query(`DROP TABLE IF EXISTS ${table}`);
      } catch {
        // A trap left the engine to be started anew: its tables went with it.
      }
    }
  }
}

/**
 * The part's rows, each record id once: the copy of the smallest rank, then the earliest time; a record id
 * the census found with several times keeps only the copy the census chose (the same rule over all parts).
 */
function dedupedSql(columns: readonly StoredColumn[], table: string, winners: string | undefined): string {
  const select = columns.map((column) => `s."${column.name}"`).join(", ");
  const join = winners ? winnersOnly(winners) : "";
  return (
    `SELECT ${select} FROM ${table} s${join} ` +
    "QUALIFY s.record_id IS NULL OR row_number() OVER (PARTITION BY s.record_id ORDER BY s._rank, s.ts) = 1"
  );
}
