import { beforeAll, describe, expect, it } from "vitest";
import { MAX_EPOCH_MS } from "../../../shared/telemetry/records.ts";
import { type DuckDb, getDuckDb } from "./duckdb.ts";
import { parquetFile } from "./parquet-file.ts";
import type { StoredColumn } from "./parquet-schema.ts";
import { writeParquetFrom } from "./parquet-writer.ts";
import { encodeRows } from "./rows/encode-rows.ts";

let db: DuckDb;
beforeAll(async () => {
  db = await getDuckDb();
}, 120_000);

/** One column of every stored type. */
const COLUMNS: StoredColumn[] = [
  { name: "ts", type: "TIMESTAMP" },
  { name: "id", type: "UUID" },
  { name: "ratio", type: "FLOAT" },
  { name: "value", type: "DOUBLE" },
  { name: "count", type: "BIGINT" },
  { name: "level", type: ["debug", "info", "error"] },
  { name: "text", type: "VARCHAR" },
  { name: "attributes", type: "JSON" },
  { name: "bytes", type: "BLOB" },
];

const START = 1_700_000_000_000;

/** 20,003 rows: three row groups, the last partial (its definition levels end mid-byte); NULLs in every column. */
const RECORDS = Array.from({ length: 20_003 }, (_, i) => ({
  ts: i === 7 ? 0 : i === 8 ? MAX_EPOCH_MS : START + ((i * 7_919) % 50_000),
  id: i % 4 === 0 ? null : `0190a0b0-${(i % 65_536).toString(16).padStart(4, "0")}-7abc-8def-0123456789AB`,
  ratio: i % 6 === 0 ? null : i / 3,
  value: i % 9 === 0 ? null : i === 1 ? Number.NaN : i === 2 ? -Infinity : i * 1.000_000_1e-7,
  count: i % 10 === 0 ? null : i === 3 ? 2n ** 62n : i - 10_000,
  level: i % 11 === 0 ? null : (["debug", "info", "error"] as const)[i % 3],
  text: i % 3 === 0 ? null : i % 3 === 1 ? "" : `row ${i}, "quoted"\n ü`,
  attributes: i % 5 === 1 ? null : { i, nested: { ok: i % 2 === 0 } },
  bytes: i % 5 === 0 ? null : Uint8Array.from([i & 0xff, 0, 0xff]),
}));

let files = 0;
function withFile<T>(file: Uint8Array, read: (name: string) => T): T {
  const name = `parquet-file-${++files}.parquet`;
  db.registerBuffer(name, file);
  try {
    return read(name);
  } finally {
    db.dropFile(name);
  }
}

const rows = () => encodeRows(COLUMNS, RECORDS, "parquet");

describe.each(["zstd", "none"] as const)("parquetFile(…, %s)", (codec) => {
  it("stores every cell as DuckDB reads it back, NULL apart from empty", async () => {
    const read = withFile(await parquetFile(COLUMNS, rows(), codec), (name) =>
      db.query(`SELECT * FROM read_parquet('${name}')`),
    );
    expect(read).toHaveLength(RECORDS.length);
    read.forEach((row, i) => {
      const record = RECORDS[i] as (typeof RECORDS)[number];
      expect(row).toEqual({
        ts: record.ts,
        id: record.id?.toLowerCase() ?? null,
        ratio: record.ratio === null ? null : Math.fround(record.ratio),
        value: record.value,
        count: record.count === null ? null : BigInt(record.count),
        level: record.level ?? null,
        text: record.text,
        attributes: record.attributes === null ? null : JSON.stringify(record.attributes),
        bytes: record.bytes,
      });
    });
  });

  it(`compresses every page with ${codec} and keeps each row group's time range in its statistics`, async () => {
    const chunks = withFile(await parquetFile(COLUMNS, rows(), codec), (name) =>
      db.query<{
        row_group_id: bigint;
        path_in_schema: string;
        compression: string;
        min: unknown;
        max: unknown;
      }>(
        `SELECT row_group_id, path_in_schema, compression, epoch_ms(CAST(stats_min_value AS TIMESTAMP)) AS min,
         epoch_ms(CAST(stats_max_value AS TIMESTAMP)) AS max
         FROM parquet_metadata('${name}') ORDER BY row_group_id, column_id`,
      ),
    );
    expect(new Set(chunks.map((chunk) => chunk.compression))).toEqual(
      new Set([codec === "zstd" ? "ZSTD" : "UNCOMPRESSED"]),
    );
    const ranges = chunks.filter((chunk) => chunk.path_in_schema === "ts");
    expect(ranges).toHaveLength(3);
    ranges.forEach((range, group) => {
      const times = RECORDS.slice(group * 8_192, (group + 1) * 8_192).map((record) => record.ts);
      expect([range.min, range.max]).toEqual([BigInt(Math.min(...times)), BigInt(Math.max(...times))]);
    });
  });
});

it("writes the schema DuckDB writes for the same columns (objects of either writer read back the same)", async () => {
  const schemaOf = (file: Uint8Array) =>
    withFile(file, (name) =>
      db.query(
        `SELECT name, type, type_length, repetition_type, converted_type, logical_type
         FROM parquet_schema('${name}')`,
      ),
    );
  const ours = await parquetFile(COLUMNS, rows().slice(0, 100), "zstd");
  const duckDbs = withFile(ours, (name) =>
    writeParquetFrom(db, COLUMNS, (path) => `COPY (SELECT * FROM '${name}') TO '${path}' (FORMAT parquet)`),
  );
  expect(schemaOf(ours)).toEqual(schemaOf(duckDbs));
});

it("refuses rows whose cells do not match the columns, naming the column", async () => {
  const [row] = rows();
  if (!row) throw new Error("no row");
  await expect(parquetFile(COLUMNS.slice(0, 2), [row], "zstd")).rejects.toThrow(
    /a row holds \d+ bytes of cells/,
  );
  const cut = { ...row, line: row.line.subarray(0, row.line.length - 6) };
  await expect(parquetFile(COLUMNS, [cut], "zstd")).rejects.toThrow(
    /runs past its row|inside a cell's length/,
  );
  // A row written for other columns: `ts`'s 8 bytes where a UUID takes 16.
  const shifted = [{ name: "id", type: "UUID" }, ...COLUMNS.slice(1)] satisfies StoredColumn[];
  await expect(parquetFile(shifted, [row], "none")).rejects.toThrow(
    "column id: a cell of 8 bytes, where a UUID value takes 16",
  );
});

it("refuses, naming the column, a value its type cannot hold", () => {
  const record = RECORDS[1] as (typeof RECORDS)[number];
  expect(() =>
    encodeRows(COLUMNS, [{ ...record, id: "0190a0b0-0000-7abc-8def-0123456789AG" }], "parquet"),
  ).toThrow('column id: "0190a0b0-0000-7abc-8def-0123456789AG" is not a UUID');
  expect(() => encodeRows(COLUMNS, [{ ...record, ts: 1.5 }], "parquet")).toThrow(
    "column ts: 1.5 is not epoch milliseconds",
  );
});
