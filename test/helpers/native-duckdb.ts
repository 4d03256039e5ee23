import { DuckDBInstance } from "@duckdb/node-api";

/**
 * Native DuckDB (the engine operators open our files with), for asserting what a stored file really holds.
 * One thread, in memory.
 *
 * @example const rows = await nativeQuery("SELECT count(*) AS n FROM read_parquet('x.parquet')");
 */
export async function nativeQuery(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * The reference's "fluxMsg / Data" table (then our `record_id`) as native DuckDB describes a stored
 * `messages/` file: ENUMs read back as their strings, `promoted` as JSON through its Parquet annotation.
 */
export const NATIVE_MESSAGE_COLUMNS = [
  ["ts", "TIMESTAMP"],
  ["trace_id", "VARCHAR"],
  ["flux_id", "UUID"],
  ["entity_id", "UUID"],
  ["entity_name", "VARCHAR"],
  ["src_gear_id", "VARCHAR"],
  ["dst_gear_id", "VARCHAR"],
  ["msg_type", "VARCHAR"],
  ["direction", "VARCHAR"],
  ["status", "VARCHAR"],
  ["raw_msg", "BLOB"],
  ["promoted", "JSON"],
  ["record_id", "UUID"],
];
