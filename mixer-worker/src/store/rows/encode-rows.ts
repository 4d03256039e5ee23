import { toBase64 } from "../../../../shared/passport/encoding.ts";
import type { StoredColumn } from "../parquet-schema.ts";
import { Utf8Sink } from "../utf8-sink.ts";
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
 * the rest. One CSV line per record for Parquet: DuckDB 0.9.1 reads both an empty cell and `""` as NULL and
 * has no `force_not_null`, so every text cell carries one leading character that the writer's SELECT strips
 * (NULL stays an empty cell, "" becomes `"."`); BLOBs travel as base64. One NDJSON line for `json`, with the
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
    if (format === "parquet") writeCsvLine(sink, columns, record as Record<string, unknown>);
    else sink.write(ndjsonLine(columns, record as Record<string, unknown>));
    ends.push(sink.bytes().length);
  }
  // Views of the final buffer, taken once it stopped growing.
  const bytes = sink.bytes();
  return records.map((record, i) => {
    const { ts, flux_id = null, spec = null } = record as RowRecord;
    return { ts, flux_id, spec, line: bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]) };
  });
}

function writeCsvLine(
  sink: Utf8Sink,
  columns: readonly StoredColumn[],
  values: Record<string, unknown>,
): void {
  let line = "";
  let separator = "";
  for (const column of columns) {
    const value = values[column.name];
    if (column.type === "BLOB" && value instanceof Uint8Array) {
      // Unquoted (base64 has no CSV specials) behind the one leading character every text cell has.
      sink.write(`${line}${separator}.`);
      sink.writeBase64(value);
      line = "";
    } else line += separator + csvCell(column, value);
    separator = ",";
  }
  sink.write(`${line}\n`);
}

function csvCell({ type }: StoredColumn, value: unknown): string {
  if (value === null || value === undefined) return "";
  if (type === "JSON") return text(JSON.stringify(value));
  if (type === "BLOB") throw new TypeError(`a BLOB cell holds bytes (Uint8Array), not ${typeof value}`);
  if (typeof value === "string") return type === "UUID" ? value : text(value);
  return String(value);
}

const text = (value: string) => `".${value.replaceAll('"', '""')}"`;

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
