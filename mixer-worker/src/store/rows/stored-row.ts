/**
 * One record as its stored object will hold it: its encoded line (its cells for Parquet, see {@link NULL_CELL};
 * an NDJSON line for `format = "json"`), and what decides which object it goes to. Ingest encodes each record
 * once, when its message arrives, so a flush only lays lines out: the JS objects are not kept.
 */
export interface StoredRow {
  /** Epoch milliseconds: the partition, and the object's time range. */
  ts: number;
  /**
   * The flux ids of the records decoded with it (its message's; none for kinds that store no flux_id): the
   * object's flux range covers them, so lookups by flux_id skip objects that cannot hold it.
   */
  flux: FluxRange | null;
  /** Journal records: the fluxSpec folder (`null`: `messages/generic/`); null for telemetry. */
  spec: string | null;
  /** The encoded line: for Parquet one cell per stored column in order, for NDJSON the line with its newline. */
  line: Uint8Array;
}

/** The lowest and highest of some flux ids, as canonical lower-case UUID text (their text sorts by time). */
export interface FluxRange {
  min: string;
  max: string;
}

/**
 * A Parquet row's cells: per stored column, its value's byte length (4 bytes, little-endian) then its bytes, or
 * this length alone for NULL. The bytes are the value's Parquet PLAIN encoding: UTF-8 text, JSON text and BLOB
 * bytes as they are (with the length, a PLAIN byte array), and for `ts`, UUIDs and numbers their fixed-width
 * bytes (rows/plain-values.ts). So a flush copies cells into columns without reading them (parquet-file.ts).
 */
export const NULL_CELL = 0xffffffff;

/** How rows are encoded: the staging format of `observability.embedded.storage.format`. */
export type RowFormat = "parquet" | "json";
