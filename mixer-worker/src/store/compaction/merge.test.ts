import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { newFileId } from "../../../../shared/storage/object-keys.ts";
import type { LogRecord } from "../../../../shared/telemetry/records.ts";
import type { MixerEnv } from "../../env.ts";
import { getDuckDb } from "../duckdb.ts";
import { fluxRangeMetadata } from "../object-flux-range.ts";
import { MESSAGE_COLUMNS, TELEMETRY_COLUMNS } from "../parquet-schema.ts";
import { writeRecordsFile, writeTelemetryFile } from "../parquet-writer.ts";
import { SAMPLE_JOURNAL_RECORDS, SAMPLE_RECORDS } from "../sample-records.ts";
import { MERGED_ROW_GROUP_ROWS, type MergedPart, type MergeSource, mergeSources } from "./merge.ts";

const bucket = (env as unknown as MixerEnv).TELEMETRY;
const HOUR = Date.UTC(2025, 1, 3, 7);
const FOLDER = "telemetry/logs/2025/02/03/07/";
const id = (n: number) => `0190a0b0-0000-7000-8e01-${n.toString(16).padStart(12, "0")}`;
const log = (n: number, ts: number, message = `record ${n}`): LogRecord => ({
  record_id: id(n),
  ts,
  entity_id: id(100_000),
  entity_name: "rack-merge",
  flux_id: n % 3 ? null : id(200_000 + n),
  level: n % 7 ? "info" : "error",
  message,
  attributes: { n },
});

/** Writes records as one flush object stored by write `storedAs`, and describes it as a merge source. */
async function source(storedAs: string, records: LogRecord[]): Promise<MergeSource> {
  const key = `${FOLDER}logs_${storedAs}.parquet`;
  const bytes = await writeTelemetryFile("logs", records, { format: "parquet", compression: "zstd" });
  await bucket.put(key, bytes);
  const times = records.map((record) => record.ts);
  return {
    key,
    size: bytes.byteLength,
    rows: records.length,
    oldest: Math.min(...times),
    newest: Math.max(...times),
    storedAs,
  };
}

/** Reads Parquet bytes back with DuckDB: `sql` runs over `file`. */
async function read(bytes: Uint8Array, sql: (file: string) => string): Promise<Record<string, unknown>[]> {
  const db = await getDuckDb();
  const name = `merge-test-${Math.random()}.parquet`;
  db.registerBuffer(name, bytes);
  try {
    return db.query(sql(`'${name}'`));
  } finally {
    db.dropFile(name);
  }
}

const [EARLIEST, FIRST, SECOND] = [1, 2, 3].map((n) => newFileId(HOUR + n * 60_000)) as [
  string,
  string,
  string,
];
const TWICE_LATER = 10; // in FIRST early, and again in EARLIEST (stored first) at the end of the hour
const TWICE_EARLIER = 20; // in FIRST early, and again in SECOND (stored after) at the end of the hour

let sources: MergeSource[];
const expected = new Map<string, number>();

beforeAll(async () => {
  await getDuckDb();
  // 1,500 records two seconds apart from 07:00; SECOND holds 300 of them again (same time: ingest's
  // redelivery) and 200 of its own; two record ids come again with another time, 50 minutes later.
  const first = Array.from({ length: 1_500 }, (_, i) => log(i, HOUR + i * 2_000));
  const second = [
    ...first.slice(600, 900),
    ...Array.from({ length: 200 }, (_, i) => log(5_000 + i, HOUR + 30 * 60_000 + i * 100)),
    log(TWICE_EARLIER, HOUR + 55 * 60_000, "later copy, stored later"),
  ];
  const earliest = [log(TWICE_LATER, HOUR + 55 * 60_000, "later copy, stored first")];
  for (const record of [...first, ...second.slice(300, 500)]) expected.set(record.record_id, record.ts);
  expected.set(id(TWICE_LATER), HOUR + 55 * 60_000);
  sources = [await source(FIRST, first), await source(SECOND, second), await source(EARLIEST, earliest)];
}, 120_000);

async function merge(partRows: number): Promise<MergedPart[]> {
  const parts: MergedPart[] = [];
  const report = await mergeSources({
    bucket,
    sources,
    columns: TELEMETRY_COLUMNS.logs,
    orderBy: "ts, record_id",
    compression: "zstd",
    partRows,
    async put(part, count, merged) {
      expect([part, count]).toEqual([parts.length + 1, count]);
      parts.push(merged);
    },
  });
  expect(report).toMatchObject({ parts: parts.length, rowsIn: 2_002, rowsOut: expected.size });
  return parts;
}

describe("mergeSources", () => {
  it.each([
    ["in one part", 100_000],
    ["in parts of at most 500 rows, with the census", 500],
  ])("keeps every record id once, as the first stored copy, %s", async (_, partRows) => {
    const parts = await merge(partRows);
    if (partRows < 2_002) expect(parts.length).toBeGreaterThanOrEqual(4);
    else expect(parts.length).toBe(1);
    const kept = new Map<string, number>();
    let previous = Number.NEGATIVE_INFINITY;
    for (const part of parts) {
      const rows = await read(
        part.bytes,
        (file) =>
          `SELECT record_id::VARCHAR AS id, epoch_ms(ts) AS t, flux_id::VARCHAR AS flux_id FROM ${file}`,
      );
      // The flux id range lookups by flux id prune by, as the ingest writer records it.
      expect(part.fluxRange).toEqual(
        fluxRangeMetadata(
          rows.map(({ flux_id: id }) => ({ flux: typeof id === "string" ? { min: id, max: id } : null })),
        ),
      );
      expect(rows.length).toBe(part.rows);
      expect(part.rows).toBeLessThanOrEqual(partRows);
      // Sorted within the part, and parts follow each other in time.
      for (const row of rows) {
        const t = Number(row.t);
        expect(t).toBeGreaterThanOrEqual(previous);
        previous = t;
        expect(kept.has(String(row.id))).toBe(false);
        kept.set(String(row.id), t);
      }
      expect([part.tsMin, part.tsMax]).toEqual([Number(rows[0]?.t), Number(rows.at(-1)?.t)]);
    }
    expect(kept).toEqual(expected);
  });

  it("writes the ingest writer's schema, with row groups sized for pruning", async () => {
    const flush = await writeTelemetryFile("logs", [...SAMPLE_RECORDS.logs], {
      format: "parquet",
      compression: "zstd",
    });
    const [part] = await merge(100_000);
    const schema = (bytes: Uint8Array) =>
      read(
        bytes,
        (file) =>
          `SELECT name, type, converted_type, logical_type, repetition_type FROM parquet_schema(${file})`,
      );
    expect(await schema(part?.bytes as Uint8Array)).toEqual(await schema(flush));
    expect((await schema(flush)).map((column) => column.name)).toEqual([
      "duckdb_schema",
      ...TELEMETRY_COLUMNS.logs.map((column) => column.name),
    ]);
    const groups = await read(
      part?.bytes as Uint8Array,
      (file) => `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${file})`,
    );
    expect(Math.max(...groups.map((group) => Number(group.row_group_num_rows)))).toBeLessThanOrEqual(
      MERGED_ROW_GROUP_ROWS,
    );
  });

  it("merges journal records with their bytes and JSON as written, and the messages schema", async () => {
    const parquet = { format: "parquet", compression: "zstd" } as const;
    const records = SAMPLE_JOURNAL_RECORDS.map(({ spec: _, ...record }) => ({ ...record, ts: HOUR + 1_000 }));
    const keys: MergeSource[] = [];
    for (const [i, group] of [records.slice(0, 2), records.slice(1)].entries()) {
      const storedAs = newFileId(HOUR + (i + 10) * 60_000);
      const key = `messages/generic/2025/02/03/07/fluxmsg_${storedAs}.parquet`;
      const bytes = await writeRecordsFile("messages", MESSAGE_COLUMNS, group, parquet);
      await bucket.put(key, bytes);
      keys.push({
        key,
        size: bytes.byteLength,
        rows: group.length,
        oldest: HOUR,
        newest: HOUR + 3_599_999,
        storedAs,
      });
    }
    const parts: MergedPart[] = [];
    await mergeSources({
      bucket,
      sources: keys,
      columns: MESSAGE_COLUMNS,
      orderBy: "ts, record_id",
      compression: "zstd",
      partRows: 100_000,
      put: async (_, __, merged) => void parts.push(merged),
    });
    const flush = await writeRecordsFile("messages", MESSAGE_COLUMNS, records, parquet);
    const rows = (bytes: Uint8Array) =>
      read(
        bytes,
        (file) =>
          `SELECT record_id::VARCHAR AS id, to_base64(raw_msg) AS raw, promoted::VARCHAR AS promoted, direction::VARCHAR AS d FROM ${file} ORDER BY id`,
      );
    expect(await rows(parts[0]?.bytes as Uint8Array)).toEqual(await rows(flush));
    const schema = (bytes: Uint8Array) =>
      read(bytes, (file) => `SELECT name, type, converted_type, logical_type FROM parquet_schema(${file})`);
    expect(await schema(parts[0]?.bytes as Uint8Array)).toEqual(await schema(flush));
  });
});
