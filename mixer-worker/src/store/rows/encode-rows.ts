import { toBase64 } from "../../../../shared/passport/encoding.ts";
import type { StoredColumn } from "../parquet-schema.ts";
import { Utf8Sink } from "../utf8-sink.ts";
import { plainValue, plainWidth } from "./plain-values.ts";
import type { RowFormat, StoredRow } from "./stored-row.ts";

/** What a record must have for its row; the rest is read by column name. */
interface RowRecord {
  ts: number;
  flux_id?: string | null;
  spec?: string | null;
}

/**
 * Encodes records (already validated) as stored rows, the reference encoding: ingest's fast path
 * (transcode-cbor.ts) must produce exactly these bytes for the records it takes, and falls back to this for
 * the rest. For Parquet, each record's cells (see NULL_CELL): text as is, JSON columns as JSON.stringify writes
 * them, BLOBs as their bytes, `ts`, UUIDs and numbers as their PLAIN bytes (plain-values.ts). One NDJSON line for `json`, with the
 * same columns in the same order (`ts` as an ISO 8601 UTC string, JSON columns as objects, BLOBs as base64).
 *
 * @example const rows = encodeRows(TELEMETRY_COLUMNS.logs, records, "parquet");
 */
export function encodeRows(
  columns: readonly StoredColumn[],
  records: readonly object[],
  format: RowFormat,
): StoredRow[] {
  const sink = new Utf8Sink(records.length * 256);
  const ends: number[] = [];
  for (const record of records) {
    if (format === "parquet") writeCells(sink, columns, record as Record<string, unknown>);
    else sink.write(ndjsonLine(columns, record as Record<string, unknown>));
    ends.push(sink.bytes().length);
  }
  // Views of the final buffer, taken once it stopped growing.
  const bytes = sink.bytes();
  const storesFlux = columns.some((column) => column.name === "flux_id");
  return records.map((record, i) => {
    const { ts, flux_id = null, spec = null } = record as RowRecord;
    const id = storesFlux && flux_id ? flux_id.toLowerCase() : null;
    const flux = id === null ? null : { min: id, max: id };
    return { ts, flux, spec, line: bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]) };
  });
}

function writeCells(sink: Utf8Sink, columns: readonly StoredColumn[], values: Record<string, unknown>): void {
  for (const column of columns) sink.cell(cellValue(column, values[column.name]));
}

function cellValue({ name, type }: StoredColumn, value: unknown): string | Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (type === "JSON") return JSON.stringify(value);
  if (plainWidth(type) > 0) return plainValue(name, type, value);
  if (type === "BLOB") {
    if (value instanceof Uint8Array) return value;
    throw new TypeError(`a BLOB cell holds bytes (Uint8Array), not ${typeof value}`);
  }
  return typeof value === "string" ? value : String(value);
}

function ndjsonLine(columns: readonly StoredColumn[], values: Record<string, unknown>): string {
  const row: Record<string, unknown> = {};
  for (const { name, type } of columns) {
    const value = values[name] ?? null;
    row[name] =
      type === "TIMESTAMP"
        ? new Date(value as number).toISOString()
        : type === "BLOB" && value !== null
          ? toBase64(value as Uint8Array)
          : value;
  }
  return `${JSON.stringify(row)}\n`;
}
