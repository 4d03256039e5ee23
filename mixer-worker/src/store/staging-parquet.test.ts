import { beforeAll, describe, expect, it } from "vitest";
import { type DuckDb, getDuckDb } from "./duckdb.ts";
import type { StoredColumn } from "./parquet-schema.ts";
import { encodeRows } from "./rows/encode-rows.ts";
import { stagingParquet } from "./staging-parquet.ts";

let db: DuckDb;
beforeAll(async () => {
  db = await getDuckDb();
}, 120_000);

const COLUMNS: StoredColumn[] = [
  { name: "ts", type: "TIMESTAMP" },
  { name: "text", type: "VARCHAR" },
  { name: "bytes", type: "BLOB" },
];

function readBack(file: Uint8Array): Record<string, unknown>[] {
  db.registerBuffer("staged-test.parquet", file);
  try {
    return db.query("SELECT ts, text, bytes FROM read_parquet('staged-test.parquet')");
  } finally {
    db.dropFile("staged-test.parquet");
  }
}

describe("stagingParquet", () => {
  it("lays out rows that DuckDB reads back cell for cell: NULL apart from empty, bytes as bytes", () => {
    // 20,003 rows: three row groups, the last one partial, its definition levels ending mid-byte; NULLs at every
    // third row.
    const records = Array.from({ length: 20_003 }, (_, i) => ({
      ts: 1_700_000_000_000 + i,
      text: i % 3 === 0 ? null : i % 3 === 1 ? "" : `row ${i}, "quoted"\n ü`,
      bytes: i % 5 === 0 ? null : Uint8Array.from([i & 0xff, 0, 0xff]),
    }));
    const rows = readBack(stagingParquet(COLUMNS, encodeRows(COLUMNS, records, "parquet")));
    expect(rows).toHaveLength(records.length);
    rows.forEach((row, i) => {
      const record = records[i] as (typeof records)[number];
      expect(row.ts).toBe(String(record.ts));
      expect(row.text).toBe(record.text);
      expect(row.bytes === null ? null : [...(row.bytes as Uint8Array)]).toEqual(
        record.bytes === null ? null : [...record.bytes],
      );
    });
  });

  it("refuses rows whose cells do not match the columns, naming where", () => {
    const [row] = encodeRows(COLUMNS, [{ ts: 1, text: "x", bytes: null }], "parquet");
    if (!row) throw new Error("no row");
    expect(() => stagingParquet(COLUMNS.slice(0, 2), [row])).toThrow(/a row holds \d+ bytes of cells/);
    const cut = { ...row, line: row.line.subarray(0, row.line.length - 6) };
    expect(() => stagingParquet(COLUMNS, [cut])).toThrow(/runs past its row|inside a cell's length/);
  });
});
