import { JOURNAL_DIRECTIONS, JOURNAL_STATUSES } from "../journal/record.ts";
import { LOG_RECORD_LEVELS, METRIC_TYPES, SPAN_STATUSES, type TelemetryKind } from "../telemetry/records.ts";

/**
 * A stored column's type. `TEXT` is DuckDB's alias of `VARCHAR`; an array is an `ENUM` of those strings.
 * `JSON` is a string column marked with Parquet's JSON annotation.
 */
export type ColumnType =
  | "TIMESTAMP"
  | "UUID"
  | "BIGINT"
  | "VARCHAR"
  | "FLOAT"
  | "DOUBLE"
  | "JSON"
  | "BLOB"
  | readonly string[];

export interface StoredColumn {
  /** The column's name, also the record's property it is read from. */
  readonly name: string;
  readonly type: ColumnType;
}

const column = (name: string, type: ColumnType): StoredColumn => ({ name, type });

/** Ours, not the reference's: the dedupe key of at-least-once ingest, always the last column. */
const recordId = column("record_id", "UUID");

/**
 * The stored columns of each signal kind: the reference's "Embedded storage schema" tables in their order,
 * then `record_id`.
 */
export const TELEMETRY_COLUMNS: Readonly<Record<TelemetryKind, readonly StoredColumn[]>> = {
  traces: [
    column("ts", "TIMESTAMP"),
    column("trace_id", "VARCHAR"),
    column("span_id", "VARCHAR"),
    column("parent_span_id", "VARCHAR"),
    column("flux_id", "UUID"),
    column("entity_id", "UUID"),
    column("entity_name", "VARCHAR"),
    column("span_name", "VARCHAR"),
    column("duration_ms", "FLOAT"),
    column("status", SPAN_STATUSES),
    column("attributes", "JSON"),
    recordId,
  ],
  logs: [
    column("ts", "TIMESTAMP"),
    column("entity_id", "UUID"),
    column("entity_name", "VARCHAR"),
    column("flux_id", "UUID"),
    column("level", LOG_RECORD_LEVELS),
    column("message", "VARCHAR"),
    column("attributes", "JSON"),
    recordId,
  ],
  metrics: [
    column("ts", "TIMESTAMP"),
    column("name", "VARCHAR"),
    column("entity_id", "UUID"),
    column("entity_name", "VARCHAR"),
    column("type", METRIC_TYPES),
    column("value", "DOUBLE"),
    column("labels", "JSON"),
    recordId,
  ],
};

/**
 * The columns of a metrics rollup (`telemetry/metrics_1m/`, `telemetry/metrics_1h/`): one row per metric, entity,
 * labels and minute (or hour; `ts`, its start) with what the queries aggregate: how many points, their sum, min
 * and max, and the latest one's value with its order key (zero-padded epoch ms, then record id), so that buckets
 * of any whole number of its steps are computed from it exactly as from the points.
 */
export const METRIC_ROLLUP_COLUMNS: readonly StoredColumn[] = [
  column("ts", "TIMESTAMP"),
  column("name", "VARCHAR"),
  column("entity_id", "UUID"),
  column("entity_name", "VARCHAR"),
  column("type", METRIC_TYPES),
  column("labels", "JSON"),
  column("count", "BIGINT"),
  column("sum", "DOUBLE"),
  column("min", "DOUBLE"),
  column("max", "DOUBLE"),
  column("last", "DOUBLE"),
  column("last_key", "VARCHAR"),
];

/**
 * The stored columns of journal records (`messages/`): the reference's "Parquet Schema (fluxMsg / Data)" in
 * its order, then `record_id`. `raw_msg` is the masked fluxMsg as CBOR.
 */
export const MESSAGE_COLUMNS: readonly StoredColumn[] = [
  column("ts", "TIMESTAMP"),
  column("trace_id", "VARCHAR"),
  column("flux_id", "UUID"),
  column("entity_id", "UUID"),
  column("entity_name", "VARCHAR"),
  column("src_gear_id", "VARCHAR"),
  column("dst_gear_id", "VARCHAR"),
  column("msg_type", "VARCHAR"),
  column("direction", JOURNAL_DIRECTIONS),
  column("status", JOURNAL_STATUSES),
  column("raw_msg", "BLOB"),
  column("promoted", "JSON"),
  recordId,
];

/**
 * The DuckDB type a column holds while the file is written.
 *
 * @example duckDbType(["ok", "error"]) // "ENUM('ok', 'error')"
 */
export function duckDbType(type: ColumnType): string {
  if (typeof type !== "string") return `ENUM(${type.map((value) => `'${value}'`).join(", ")})`;
  // DuckDB 0.9.1 has no JSON type without its json extension; the Parquet annotation is added afterwards.
  return type === "JSON" ? "VARCHAR" : type;
}
