/**
 * One record as its stored object will hold it: the line of the staging file (a CSV line DuckDB reads for
 * Parquet, an NDJSON line for `format = "json"`), and what decides which object it goes to. Ingest encodes
 * each record once, when its message arrives, so a flush only joins lines: the JS objects are not kept.
 */
export interface StoredRow {
  /** Epoch milliseconds: the partition, and the object's time range. */
  ts: number;
  /** The object's flux range (lookups by flux_id skip objects that cannot hold it). */
  flux_id: string | null;
  /** Journal records: the fluxSpec folder (`null`: `messages/generic/`); null for telemetry. */
  spec: string | null;
  /** The encoded line, its newline included. */
  line: Uint8Array;
}

/** How rows are encoded: the staging format of `observability.embedded.storage.format`. */
export type RowFormat = "parquet" | "json";
