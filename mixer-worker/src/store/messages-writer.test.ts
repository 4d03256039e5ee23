import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { MixerEnv } from "../env.ts";
import { type DuckDb, getDuckDb } from "./duckdb.ts";
import { MESSAGE_COLUMNS } from "./parquet-schema.ts";
import { SAMPLE_JOURNAL_RECORDS } from "./sample-records.ts";
import { storeRecords } from "./write-records.ts";

const bucket = (env as unknown as MixerEnv).TELEMETRY;
let db: DuckDb;
beforeAll(async () => {
  db = await getDuckDb();
}, 120_000);

const parquet = { format: "parquet", compression: "zstd", partition_by: "hour" } as const;

async function readObject(key: string): Promise<Uint8Array> {
  const object = await bucket.get(key);
  if (!object) throw new Error(`no object ${key}`);
  return new Uint8Array(await object.arrayBuffer());
}

describe("storeRecords for journal records", () => {
  it("writes messages/fluxSpec/<spec>/ and messages/generic/ hour folders with the reference's names", async () => {
    const { keys } = await storeRecords(bucket, "messages", [...SAMPLE_JOURNAL_RECORDS], parquet);
    expect(keys.map((key) => key.replace(/_[0-9A-Z]{26}\./, "_ID."))).toEqual([
      "messages/fluxSpec/visa-v1/2025/12/21/14/visa_ID.parquet",
      "messages/generic/2025/12/21/15/fluxmsg_ID.parquet",
    ]);
  });

  it("stores the reference's fluxMsg columns in order with their types, bytes and JSON intact", async () => {
    const { keys } = await storeRecords(bucket, "messages", [...SAMPLE_JOURNAL_RECORDS], parquet);
    const name = "messages-read-back.parquet";
    db.registerBuffer(name, await readObject(keys[0] as string));
    try {
      const described = db.query<{ column_name: string; column_type: string }>(
        `DESCRIBE SELECT * FROM '${name}'`,
      );
      expect(described.map((c) => [c.column_name, c.column_type])).toEqual(
        MESSAGE_COLUMNS.map(({ name, type }) => [
          name,
          typeof type !== "string" || type === "JSON" ? "VARCHAR" : type,
        ]),
      );
      const schema = db.query<{ name: string; converted_type: string | null }>(
        `SELECT name, converted_type FROM parquet_schema('${name}') WHERE name = 'promoted'`,
      );
      expect(schema).toEqual([{ name: "promoted", converted_type: "JSON" }]);
      const rows = db.query<Record<string, unknown>>(
        `SELECT record_id, to_base64(raw_msg) AS raw, promoted, direction, status, src_gear_id FROM '${name}' ORDER BY ts`,
      );
      const [first, second] = SAMPLE_JOURNAL_RECORDS;
      expect(rows).toEqual([
        {
          record_id: first?.record_id,
          raw: btoa(String.fromCharCode(...(first?.raw_msg ?? []))),
          promoted: JSON.stringify(first?.promoted),
          direction: "inbound",
          status: "ok",
          src_gear_id: null,
        },
        {
          record_id: second?.record_id,
          raw: null,
          promoted: null,
          direction: "outbound",
          status: "error",
          src_gear_id: "router",
        },
      ]);
    } finally {
      db.dropFile(name);
    }
  });

  it("writes NDJSON with raw_msg as base64 when storage.format is json", async () => {
    const json = { format: "json", compression: "none", partition_by: "hour" } as const;
    const { keys } = await storeRecords(bucket, "messages", [SAMPLE_JOURNAL_RECORDS[0]!], json);
    const text = new TextDecoder().decode(await readObject(keys[0] as string));
    const row = JSON.parse(text);
    expect(Object.keys(row)).toEqual(MESSAGE_COLUMNS.map((column) => column.name));
    expect(row.raw_msg).toBe(btoa(String.fromCharCode(...(SAMPLE_JOURNAL_RECORDS[0]?.raw_msg ?? []))));
  });
});
