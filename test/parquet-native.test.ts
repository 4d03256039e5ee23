import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { duckDbType, TELEMETRY_COLUMNS } from "../mixer-worker/src/store/parquet-schema.ts";
import { SAMPLE_RECORDS } from "../mixer-worker/src/store/sample-records.ts";
import { TELEMETRY_KINDS } from "../shared/telemetry/records.ts";
import { startWriterWorker, type WriterWorker } from "./helpers/writer-worker.ts";

/**
 * Files written by the mixer's writer in workerd (duckdb-wasm 1.28, DuckDB 0.9.1) open unchanged in native
 * DuckDB 1.5 with the reference's types, and their Parquet schema is the one native DuckDB writes itself.
 */

let worker: WriterWorker;
let dir: string;
let duck: DuckDBConnection;

beforeAll(async () => {
  [worker, dir, duck] = await Promise.all([
    startWriterWorker(),
    mkdtemp(join(tmpdir(), "fluxrig-parquet-")),
    DuckDBInstance.create(":memory:").then((instance) => instance.connect()),
  ]);
}, 60_000);

afterAll(async () => {
  await worker?.dispose();
  duck?.closeSync();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const rowsOf = async (sql: string) => (await duck.runAndReadAll(sql)).getRowObjectsJson();

/** Native DuckDB's name for each stored type when it reads the file. */
const NATIVE_TYPE = {
  TIMESTAMP: "TIMESTAMP",
  UUID: "UUID",
  BIGINT: "BIGINT",
  VARCHAR: "VARCHAR",
  FLOAT: "FLOAT",
  DOUBLE: "DOUBLE",
  BLOB: "BLOB",
  JSON: "JSON",
};

describe.each(TELEMETRY_KINDS)("%s written in workerd, read by native DuckDB", (kind) => {
  const columns = TELEMETRY_COLUMNS[kind];
  const records = SAMPLE_RECORDS[kind];
  let file: string;

  beforeAll(async () => {
    const { bytes } = await worker.write(kind, records, { format: "parquet", compression: "zstd" });
    file = join(dir, `${kind}.parquet`);
    await writeFile(file, bytes);
  }, 60_000);

  it("has the reference's columns and types (ENUMs as their strings)", async () => {
    const described = await rowsOf(`DESCRIBE SELECT * FROM '${file}'`);
    expect(described.map((c) => [c.column_name, c.column_type])).toEqual(
      columns.map(({ name, type }) => [name, typeof type === "string" ? NATIVE_TYPE[type] : "VARCHAR"]),
    );
  });

  it("has the values of the records", async () => {
    // Read back as JSON-friendly values: epoch ms for TIMESTAMP, numbers for FLOAT and DOUBLE, text for the rest.
    const readAs = (name: string, type: unknown) =>
      type === "TIMESTAMP"
        ? `epoch_ms("${name}")::DOUBLE`
        : type === "FLOAT" || type === "DOUBLE"
          ? `"${name}"::DOUBLE`
          : `"${name}"::VARCHAR`;
    const select = columns.map(({ name, type }) => `${readAs(name, type)} AS "${name}"`).join(", ");
    const rows = await rowsOf(`SELECT ${select} FROM '${file}'`);
    const expected = records.map((record) =>
      Object.fromEntries(
        columns.map(({ name, type }) => {
          const value = (record as Record<string, unknown>)[name];
          if (type === "JSON") return [name, JSON.stringify(value)];
          if (type === "FLOAT") return [name, Math.fround(value as number)];
          return [name, value];
        }),
      ),
    );
    expect(rows).toEqual(expected);
  });

  it("has the Parquet schema native DuckDB writes for the same SQL types", async () => {
    const native = join(dir, `${kind}-native.parquet`);
    const definition = columns
      .map(({ name, type }) => `"${name}" ${type === "JSON" ? "JSON" : duckDbType(type)}`)
      .join(", ");
    await duck.run(`CREATE OR REPLACE TABLE native_${kind} (${definition})`);
    await duck.run(`INSERT INTO native_${kind} SELECT * FROM '${file}'`);
    await duck.run(`COPY native_${kind} TO '${native}' (FORMAT parquet, COMPRESSION zstd)`);
    const schema = (path: string) =>
      rowsOf(
        `SELECT name, type, type_length, repetition_type, converted_type, logical_type FROM parquet_schema('${path}')`,
      );
    expect(await schema(file)).toEqual(await schema(native));
  });
});
