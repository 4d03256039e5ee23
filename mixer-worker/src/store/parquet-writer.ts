import type { RecordOf, TelemetryKind } from "../../../shared/telemetry/records.ts";
import { type DuckDb, getDuckDb } from "./duckdb.ts";
import { parquetFile } from "./parquet-file.ts";
import { annotateJsonColumns } from "./parquet-json-annotation.ts";
import { duckDbType, type StoredColumn, TELEMETRY_COLUMNS } from "./parquet-schema.ts";
import { encodeRows } from "./rows/encode-rows.ts";
import type { StoredRow } from "./rows/stored-row.ts";

/** `observability.embedded.storage.format`. */
export type TelemetryFormat = "parquet" | "json";
/** `observability.embedded.storage.compression`. */
export type TelemetryCompression = "zstd" | "snappy" | "none";

export interface TelemetryFileOptions {
  format: TelemetryFormat;
  compression: TelemetryCompression;
}

const PARQUET_CODEC: Record<TelemetryCompression, string> = {
  zstd: "ZSTD",
  snappy: "SNAPPY",
  none: "UNCOMPRESSED",
};

/** Names of the engine's scratch files, unique within the isolate. */
let scratchFiles = 0;

/**
 * Writes one stored telemetry object: Parquet with the reference's columns and types (then `record_id`), or
 * NDJSON with the same columns in the same order (`ts` as an ISO 8601 UTC string, JSON columns as objects).
 * NDJSON is stored uncompressed: workerd has no zstd or snappy encoder, and duckdb-wasm's CSV writer ignores
 * `COMPRESSION`, so any other codec is refused rather than silently dropped.
 *
 * @example
 * const bytes = await writeTelemetryFile("logs", records, { format: "parquet", compression: "zstd" });
 * await env.TELEMETRY.put(key, bytes);
 */
export async function writeTelemetryFile<K extends TelemetryKind>(
  kind: K,
  records: readonly RecordOf<K>[],
  options: TelemetryFileOptions,
): Promise<Uint8Array> {
  return writeRecordsFile(kind, TELEMETRY_COLUMNS[kind], records, options);
}

/**
 * Writes one stored object of any record set: Parquet with `columns` in their order and types, or NDJSON
 * with the same columns (BLOB values as base64). `what` names the records in errors.
 *
 * @example
 * const bytes = await writeRecordsFile("messages", MESSAGE_COLUMNS, records, { format: "parquet", compression: "zstd" });
 */
export function writeRecordsFile(
  what: string,
  columns: readonly StoredColumn[],
  records: readonly object[],
  options: TelemetryFileOptions,
): Promise<Uint8Array> {
  return writeRowsFile(what, columns, encodeRows(columns, records, options.format), options);
}

/**
 * Writes one stored object from rows encoded for `options.format` (see rows/encode-rows.ts): their NDJSON lines
 * joined, or their cells laid out as Parquet by parquet-file.ts (zstd or uncompressed; for snappy, which has no
 * encoder in the isolate, DuckDB rewrites that file with its codec).
 *
 * @example const bytes = await writeRowsFile("logs", TELEMETRY_COLUMNS.logs, rows, storage);
 */
export async function writeRowsFile(
  what: string,
  columns: readonly StoredColumn[],
  rows: readonly StoredRow[],
  options: TelemetryFileOptions,
): Promise<Uint8Array> {
  if (rows.length === 0)
    throw new RangeError(`no ${what} records to write: a stored file holds at least one`);
  if (options.format === "json") {
    if (options.compression !== "none") {
      throw new RangeError(
        `compression "${options.compression}" is not available for format "json" in the mixer; use "none" (or format "parquet")`,
      );
    }
    return joinLines(rows);
  }
  if (options.compression !== "snappy") return parquetFile(columns, rows, options.compression);
  return rewriteWithCodec(await getDuckDb(), columns, await parquetFile(columns, rows, "none"), "snappy");
}

function joinLines(rows: readonly StoredRow[]): Uint8Array {
  let total = 0;
  for (const { line } of rows) total += line.length;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const { line } of rows) {
    bytes.set(line, at);
    at += line.length;
  }
  return bytes;
}

/**
 * The `COPY` that writes the rows of `select` as a stored Parquet file: the storage's codec, and row groups of
 * `rowGroupRows` rows when given (DuckDB's default, 122,880, otherwise).
 *
 * @example db.query(parquetCopySql("SELECT * FROM t ORDER BY ts", "out.parquet", { compression: "zstd" }));
 */
export function parquetCopySql(
  select: string,
  parquetPath: string,
  options: { compression: TelemetryCompression; rowGroupRows?: number },
): string {
  const rowGroups = options.rowGroupRows === undefined ? "" : `, ROW_GROUP_SIZE ${options.rowGroupRows}`;
  return `COPY (${select}) TO '${parquetPath}' (FORMAT parquet, COMPRESSION ${PARQUET_CODEC[options.compression]}${rowGroups})`;
}

/** Turns the bytes DuckDB wrote for `columns` into the stored file (JSON columns annotated). */
const finishParquet = (columns: readonly StoredColumn[], parquet: Uint8Array): Uint8Array =>
  annotateJsonColumns(
    parquet,
    columns.filter((column) => column.type === "JSON").map((column) => column.name),
  );

/**
 * Runs a COPY that `copySql` makes for a scratch Parquet file and returns the stored file: the writer's one
 * way out of the engine, for ingest's flushes and compaction's merged objects alike.
 *
 * @example const bytes = writeParquetFrom(db, TELEMETRY_COLUMNS.logs, (path) => parquetCopySql(select, path, storage));
 */
export function writeParquetFrom(
  db: DuckDb,
  columns: readonly StoredColumn[],
  copySql: (parquetPath: string) => string,
): Uint8Array {
  return finishParquet(columns, copyOut(db, copySql));
}

function copyOut(db: DuckDb, copySql: (parquetPath: string) => string): Uint8Array {
  const name = `telemetry-${++scratchFiles}.parquet`;
  // An unregistered COPY target works too, but duckdb-wasm then warns "Buffering missing file" on every write.
  db.registerBuffer(name, new Uint8Array(0));
  try {
    db.query(copySql(name));
    return db.copyFileToBuffer(name);
  } finally {
    db.dropFile(name);
  }
}

/**
 * The SQL expression that reads stored column `column` of a Parquet file written by this writer (or by an
 * older one, or natively) back as the type it is stored with, for a copy that must keep the schema.
 *
 * @example storedColumnSql({ name: "level", type: ["debug", "info"] }) // `CAST("level" AS ENUM('debug', 'info')) AS "level"`
 */
export function storedColumnSql(column: StoredColumn): string {
  return `CAST("${column.name}" AS ${duckDbType(column.type)}) AS "${column.name}"`;
}

/** Has DuckDB rewrite an uncompressed file of ours with `compression`, the codecs the isolate cannot write. */
function rewriteWithCodec(
  db: DuckDb,
  columns: readonly StoredColumn[],
  file: Uint8Array,
  compression: TelemetryCompression,
): Uint8Array {
  const stagedName = `staged-${++scratchFiles}.parquet`;
  db.registerBuffer(stagedName, file);
  try {
    return writeParquetFrom(db, columns, (parquetPath) =>
      parquetCopySql(`SELECT * FROM read_parquet('${stagedName}')`, parquetPath, { compression }),
    );
  } finally {
    db.dropFile(stagedName);
  }
}
