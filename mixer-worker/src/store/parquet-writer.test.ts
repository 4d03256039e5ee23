import { beforeAll, describe, expect, it } from "vitest";
import { TELEMETRY_KINDS, type TelemetryKind } from "../../../shared/telemetry/records.ts";
import { type DuckDb, getDuckDb } from "./duckdb.ts";
import { annotateJsonColumns } from "./parquet-json-annotation.ts";
import { TELEMETRY_COLUMNS } from "./parquet-schema.ts";
import { writeTelemetryFile } from "./parquet-writer.ts";
import { SAMPLE_RECORDS } from "./sample-records.ts";

/** What DuckDB 0.9.1 reports when it reads each stored type back from Parquet. */
const READ_BACK_TYPE = {
  TIMESTAMP: "TIMESTAMP",
  UUID: "UUID",
  BIGINT: "BIGINT",
  VARCHAR: "VARCHAR",
  FLOAT: "FLOAT",
  DOUBLE: "DOUBLE",
  BLOB: "BLOB",
};

let db: DuckDb;
// Importing the 18 MB engine takes about 10 s in the pool; getDuckDb shares it with every file of the run.
beforeAll(async () => {
  db = await getDuckDb();
}, 120_000);

let files = 0;
/** Registers `bytes`, runs `read` against it, and drops it again. */
function withFile<T>(bytes: Uint8Array, extension: string, read: (name: string) => T): T {
  const name = `read-back-${++files}${extension}`;
  db.registerBuffer(name, bytes);
  try {
    return read(name);
  } finally {
    db.dropFile(name);
  }
}

/** The row DuckDB should return for a record: TIMESTAMP as epoch ms, FLOAT rounded, JSON as its text. */
function expectedRow(kind: TelemetryKind, record: object): Record<string, unknown> {
  const values = record as Record<string, unknown>;
  return Object.fromEntries(
    TELEMETRY_COLUMNS[kind].map(({ name, type }) => {
      const value = values[name];
      if (type === "FLOAT") return [name, Math.fround(value as number)];
      if (type === "JSON") return [name, JSON.stringify(value)];
      return [name, value];
    }),
  );
}

describe.each(TELEMETRY_KINDS)("writeTelemetryFile(%s, parquet)", (kind) => {
  const records = SAMPLE_RECORDS[kind];
  const columns = TELEMETRY_COLUMNS[kind];

  it("stores the reference's columns in order, then record_id, with their types", async () => {
    const file = await writeTelemetryFile(kind, records, { format: "parquet", compression: "zstd" });
    const described = withFile(file, ".parquet", (name) =>
      db.query<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM '${name}'`),
    );
    expect(described.map((c) => c.column_name)).toEqual(columns.map((c) => c.name));
    expect(described.at(-1)).toMatchObject({ column_name: "record_id", column_type: "UUID" });
    // ENUMs are stored as UTF8 strings (DuckDB writes no Parquet ENUM), so they read back as VARCHAR.
    expect(described.map((c) => c.column_type)).toEqual(
      columns.map(({ type }) =>
        typeof type === "string" && type !== "JSON" ? READ_BACK_TYPE[type] : "VARCHAR",
      ),
    );
  });

  it("annotates JSON columns and types the rest as native DuckDB does", async () => {
    const file = await writeTelemetryFile(kind, records, { format: "parquet", compression: "zstd" });
    const schema = withFile(file, ".parquet", (name) =>
      db.query<{
        name: string;
        type: string | null;
        converted_type: string | null;
        logical_type: string | null;
      }>(
        `SELECT name, type, converted_type, logical_type FROM parquet_schema('${name}') WHERE num_children IS NULL`,
      ),
    );
    const byName = new Map(schema.map((element) => [element.name, element]));
    for (const { name, type } of columns) {
      const element = byName.get(name);
      if (type === "JSON")
        expect(element).toMatchObject({ converted_type: "JSON", logical_type: "JsonType()" });
      else if (type === "UUID")
        expect(element).toMatchObject({ type: "FIXED_LEN_BYTE_ARRAY", logical_type: "UUIDType()" });
      else if (type === "TIMESTAMP")
        expect(element).toMatchObject({ type: "INT64", converted_type: "TIMESTAMP_MICROS" });
      else if (typeof type !== "string" || type === "VARCHAR")
        expect(element).toMatchObject({ converted_type: "UTF8" });
    }
  });

  it("keeps every value, NULL flux_id included", async () => {
    const file = await writeTelemetryFile(kind, records, { format: "parquet", compression: "zstd" });
    const rows = withFile(file, ".parquet", (name) => db.query(`SELECT * FROM '${name}'`));
    expect(rows).toEqual(records.map((record) => expectedRow(kind, record)));
    // Metrics have no flux_id column in the reference's table.
    if (kind !== "metrics") {
      const nullFluxIds = records.filter((record) => record.flux_id === null).length;
      expect(nullFluxIds).toBeGreaterThan(0);
      expect(rows.filter((row) => row.flux_id === null)).toHaveLength(nullFluxIds);
    }
  });

  it.each([
    ["zstd", "ZSTD"],
    ["snappy", "SNAPPY"],
    ["none", "UNCOMPRESSED"],
  ] as const)("compresses every column chunk with %s", async (compression, codec) => {
    const file = await writeTelemetryFile(kind, records, { format: "parquet", compression });
    const codecs = withFile(file, ".parquet", (name) =>
      db.query<{ compression: string }>(`SELECT DISTINCT compression FROM parquet_metadata('${name}')`),
    );
    expect(codecs).toEqual([{ compression: codec }]);
  });
});

describe("writeTelemetryFile(…, json)", () => {
  const records = SAMPLE_RECORDS.traces;
  const ndjsonRows = (text: string) =>
    text
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));

  it("writes NDJSON with the same columns in the same order, ts in ISO 8601 UTC", async () => {
    const file = await writeTelemetryFile("traces", records, { format: "json", compression: "none" });
    const rows = ndjsonRows(new TextDecoder().decode(file));
    expect(rows.map(Object.keys)).toEqual(records.map(() => TELEMETRY_COLUMNS.traces.map((c) => c.name)));
    expect(rows).toEqual(records.map((r) => ({ ...r, ts: new Date(r.ts).toISOString() })));
    expect(rows[1]).toMatchObject({ flux_id: null, ts: "2025-12-21T14:05:06.796Z" });
  });

  it.each(["zstd", "snappy"] as const)(
    "refuses %s rather than store NDJSON uncompressed unasked",
    async (compression) => {
      await expect(
        writeTelemetryFile("logs", SAMPLE_RECORDS.logs, { format: "json", compression }),
      ).rejects.toThrow(`compression "${compression}" is not available for format "json"`);
    },
  );
});

it("refuses to write an empty file", async () => {
  await expect(writeTelemetryFile("logs", [], { format: "parquet", compression: "zstd" })).rejects.toThrow(
    RangeError,
  );
});

describe("annotateJsonColumns", () => {
  it("refuses what it cannot annotate instead of writing a wrong schema", async () => {
    const file = await writeTelemetryFile("metrics", SAMPLE_RECORDS.metrics, {
      format: "parquet",
      compression: "none",
    });
    expect(() => annotateJsonColumns(file, ["labels"])).toThrow(
      "column labels is not a plain UTF8 string column",
    );
    expect(() => annotateJsonColumns(file, ["value"])).toThrow(
      "column value is not a plain UTF8 string column",
    );
    expect(() => annotateJsonColumns(file, ["tags"])).toThrow("no column named tags");
    expect(() => annotateJsonColumns(file.subarray(0, file.length - 1), ["labels"])).toThrow(
      "not a Parquet file",
    );
  });
});
