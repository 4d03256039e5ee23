import { type DuckDb, getDuckDb } from "../duckdb.ts";
import { holdBytes, sampleIsolateMemory } from "../isolate-memory.ts";
import { duckDbType, type StoredColumn } from "../parquet-schema.ts";
import {
  parquetCopySql,
  storedColumnSql,
  type TelemetryCompression,
  writeParquetFrom,
} from "../parquet-writer.ts";
import { sqlTimestamp } from "../query/sql.ts";

const MiB = 1024 * 1024;

/**
 * What one merge may hold, for the isolate's 128 MB: source bytes are fetched and registered a batch at a
 * time (held twice at most, fetched and copied into the engine), the rows of one output part sit in a table
 * of the engine, and DuckDB's working memory is capped (`SET memory_limit`, which counts that table but not
 * registered files). A part that would not fit fails cleanly and the caller halves `partRows`.
 */
export const MERGE_BUDGET = {
  /** Source bytes registered at once. */
  batchBytes: 16 * MiB,
  /** DuckDB's memory for the part's rows, the census and the sort. */
  memory: "48MB",
  /** GETs in flight while a batch is fetched. */
  fetchConcurrency: 6,
  /** (record id, time, source) triples the census holds at once; more rows take several passes by id hash. */
  censusRows: 400_000,
} as const;

/**
 * Rows per Parquet row group of a merged object. Sorted by time, a row group then spans a short stretch
 * of time, so that readers (native DuckDB, and the mixer's own filters on `ts`) skip the others by their
 * statistics; DuckDB's default (122,880) would put a busy hour's quarter into one.
 */
export const MERGED_ROW_GROUP_ROWS = 16_384;

/** One object merged: a flush object, or a part of an earlier compaction. */
export interface MergeSource {
  key: string;
  size: number;
  /** Rows, from the writer's metadata (an estimate otherwise). */
  rows: number;
  /** Epoch ms of its oldest and newest row (the partition's span when unknown). */
  oldest: number;
  newest: number;
  /** The write its rows were first stored by (its key's STORED_AS_PATTERN): copies of a record keep the smallest. */
  storedAs: string;
}

/** One output part, to be stored. */
export interface MergedPart {
  bytes: Uint8Array;
  rows: number;
  /** Epoch ms of its oldest and newest row; undefined for a part left empty by deduplication. */
  tsMin: number | undefined;
  tsMax: number | undefined;
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

/** A part needed more than {@link MERGE_BUDGET}'s memory: the caller tries again with smaller parts. */
export class MergeMemoryError extends Error {
  override name = "MergeMemoryError";
}

/** A time slice of the output: epoch ms, `lo` inclusive, `hi` exclusive, unbounded when undefined. */
interface Slice {
  lo: number | undefined;
  hi: number | undefined;
}

/** Names of the engine's tables and files, unique within the isolate. */
let merges = 0;

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
  const prefix = `merge_${++merges}`;
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
      const overlapping = ranked.filter(
        ({ source }) =>
          (slice.lo === undefined || source.newest >= slice.lo) &&
          (slice.hi === undefined || source.oldest < slice.hi),
      );
      await eachBatch(db, options.bucket, overlapping, report, (name, rank) =>
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
        const [stats] = db.query(
          `SELECT count(*)::INTEGER AS n, epoch_ms(min(ts)) AS lo, epoch_ms(max(ts)) AS hi FROM (${deduped})`,
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

interface Ranked {
  source: MergeSource;
  /** Its place in first-stored order; copies of one write share it. */
  rank: number;
}

function rankSources(sources: readonly MergeSource[]): Ranked[] {
  const order = [...new Set(sources.map((source) => source.storedAs))].sort();
  return sources.map((source) => ({ source, rank: order.indexOf(source.storedAs) }));
}

const sliceWhere = ({ lo, hi }: Slice) => {
  const where = [
    ...(lo === undefined ? [] : [`ts >= ${sqlTimestamp(lo)}`]),
    ...(hi === undefined ? [] : [`ts < ${sqlTimestamp(hi)}`]),
  ];
  return where.length ? ` WHERE ${where.join(" AND ")}` : "";
};

/**
 * The part's rows, each record id once: the copy of the smallest rank, then the earliest time; a record id
 * the census found with several times keeps only the copy the census chose (the same rule over all parts).
 */
function dedupedSql(columns: readonly StoredColumn[], table: string, winners: string | undefined): string {
  const select = columns.map((column) => `s."${column.name}"`).join(", ");
  const join = winners
    ? ` LEFT JOIN ${winners} w ON s.record_id = w.record_id WHERE w.record_id IS NULL OR (epoch_ms(s.ts) = w.t AND s._rank = w.r)`
    : "";
  return (
    `SELECT ${select} FROM ${table} s${join} ` +
    "QUALIFY s.record_id IS NULL OR row_number() OVER (PARTITION BY s.record_id ORDER BY s._rank, s.ts) = 1"
  );
}

/**
 * Reads every source's record ids and times, `MERGE_BUDGET.censusRows` at most at once (passes by id hash):
 * returns how many rows each second holds, and fills `winners` with the copy to keep of every record id
 * stored with more than one time.
 */
async function census(
  db: DuckDb,
  bucket: R2Bucket,
  ranked: readonly Ranked[],
  winners: string,
  prefix: string,
  estimated: number,
  report: MergeReport,
): Promise<Map<number, number>> {
  const histogram = new Map<number, number>();
  const passes = Math.max(1, Math.ceil(estimated / MERGE_BUDGET.censusRows));
  const table = `${prefix}_census`;
  for (let pass = 0; pass < passes; pass++) {
    guard(db, () => db.query(`CREATE TABLE ${table} (record_id UUID, t BIGINT, r INTEGER)`));
    try {
      const where = passes > 1 ? ` WHERE hash(record_id) % ${passes} = ${pass}` : "";
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
function slicesOf(histogram: Map<number, number>, rows: number): Slice[] {
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

/**
 * Fetches `ranked`'s objects in batches of at most {@link MERGE_BUDGET}'s bytes, registers each batch and
 * calls `each` for every object in it (one synchronous stretch: no other request's SQL runs meanwhile), then
 * drops them. A source gone from R2 (retention deleted its partition) fails the merge.
 */
async function eachBatch(
  db: DuckDb,
  bucket: R2Bucket,
  ranked: readonly Ranked[],
  report: MergeReport,
  each: (name: string, rank: number) => void,
): Promise<void> {
  for (let i = 0; i < ranked.length; ) {
    const batch: Ranked[] = [];
    let bytes = 0;
    while (i < ranked.length) {
      const next = ranked[i] as Ranked;
      if (batch.length > 0 && bytes + next.source.size > MERGE_BUDGET.batchBytes) break;
      batch.push(next);
      bytes += next.source.size;
      i++;
    }
    const fetched: { name: string; rank: number; bytes: Uint8Array; release: () => void }[] = [];
    try {
      for (let j = 0; j < batch.length; j += MERGE_BUDGET.fetchConcurrency) {
        const slice = batch.slice(j, j + MERGE_BUDGET.fetchConcurrency);
        const bodies = await Promise.all(slice.map(({ source }) => bucket.get(source.key)));
        for (const [k, body] of bodies.entries()) {
          const { source, rank } = slice[k] as Ranked;
          if (!body)
            throw new Error(`${source.key} is gone from R2 (retention?); the partition is merged later`);
          const data = new Uint8Array(await body.arrayBuffer());
          fetched.push({
            name: `m${++merges}/${source.key}`,
            rank,
            bytes: data,
            release: holdBytes(data.byteLength),
          });
        }
      }
      guard(db, () => {
        const registered: string[] = [];
        try {
          for (const file of fetched) {
            db.registerBuffer(file.name, file.bytes);
            registered.push(file.name);
            file.bytes = new Uint8Array(0);
            file.release();
          }
          for (const file of fetched) each(file.name, file.rank);
        } finally {
          for (const name of registered) db.dropFile(name);
        }
      });
      report.bytesRead += bytes;
    } finally {
      for (const file of fetched) file.release();
    }
  }
}

/**
 * Runs engine work under the merge's memory limit, turning DuckDB's out-of-memory error into
 * {@link MergeMemoryError}.
 */
function guard<T>(db: DuckDb, work: () => T): T {
  db.query(`SET memory_limit = '${MERGE_BUDGET.memory}'`);
  try {
    return work();
  } catch (error) {
    if (/out of memory/i.test(String((error as Error)?.message))) {
      throw new MergeMemoryError(`a merged part needed more than ${MERGE_BUDGET.memory}`, { cause: error });
    }
    throw error;
  } finally {
    sampleIsolateMemory();
    try {
      db.query("RESET memory_limit");
    } catch {
      // A trap: the engine is started anew next time.
    }
  }
}
