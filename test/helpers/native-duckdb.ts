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
