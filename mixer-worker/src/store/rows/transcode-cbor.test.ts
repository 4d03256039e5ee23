import { describe, expect, it } from "vitest";
import { cbor } from "../../../../shared/fluxmsg/cbor.ts";
import { seededRandom } from "../../../../shared/random/seeded-random.ts";
import { concat } from "../../../../shared/spec/iso8583.ts";
import { BATCH_KINDS, type BatchKind } from "../../../../shared/telemetry/batch.ts";
import { decodeBatchRows, decodeTelemetryBatch } from "../../ingest/decode-batch.ts";
import { fluxRangeMetadata } from "../object-flux-range.ts";
import { SAMPLE_JOURNAL_RECORDS, SAMPLE_RECORDS } from "../sample-records.ts";
import { storedColumns } from "../write-records.ts";
import { encodeRows } from "./encode-rows.ts";
import { RowArena } from "./row-arena.ts";
import type { StoredRow } from "./stored-row.ts";
import { transcodeBatch } from "./transcode-cbor.ts";

/** A line's bytes as a string, one character a byte: cells hold binary values, so no UTF-8 decoding. */
const bytesText = (line: Uint8Array) => Array.from(line, (byte) => String.fromCharCode(byte)).join("");
const now = Date.UTC(2025, 11, 21, 15);
const limits = { maxPayloadSize: 1 << 24, now, maxAgeMs: 100 * 365 * 86_400_000 };

const SAMPLES: Record<BatchKind, readonly object[]> = { ...SAMPLE_RECORDS, messages: SAMPLE_JOURNAL_RECORDS };

/** What the slow path makes of a message: the schemas' records encoded as rows, and the refusals. */
function slowPath(data: Uint8Array, format: "parquet" | "json" = "parquet") {
  const decoded = decodeTelemetryBatch(data, limits);
  if (!decoded.ok) return decoded;
  const rows = encodeRows(storedColumns(decoded.kind), decoded.records, format);
  return comparable(decoded.kind, rows, decoded.rejected);
}

function comparable(kind: BatchKind, rows: StoredRow[], rejected: { index: number; reason: string }[]) {
  return {
    ok: true,
    kind,
    // Order within a batch does not matter (the fast path puts the records it left to the schemas last).
    rows: rows
      .map(({ ts, spec, line }) => ({ ts, spec, line: bytesText(line) }))
      .sort((a, b) => (`${a.line}${a.spec}` < `${b.line}${b.spec}` ? -1 : 1)),
    // The fast path gives a message's rows its flux range, the schemas' path each row its own: an object's
    // range (what lookups prune by) is the same either way.
    flux: fluxRangeMetadata(rows),
    rejected: rejected.map(({ index, reason }) => ({ index, reason })),
  };
}

function fastPath(data: Uint8Array) {
  const decoded = decodeBatchRows(data, limits, "parquet");
  if (!decoded.ok) return decoded;
  return comparable(decoded.kind, decoded.rows, decoded.rejected);
}

/** Values that sit on the edges of what the schemas take, for any field. */
const AWKWARD: unknown[] = [
  null,
  undefined,
  "",
  "x",
  '"quoted", and\nnewline \u0000 \t ünïcödé 😀',
  "\uFEFFbom first",
  "A".repeat(300),
  "0190A0B0-1C2D-7E3F-8A4B-000000000001",
  "00000000-0000-0000-0000-000000000000",
  "0190a0b0-1c2d-7e3f-8a4b-000000000009",
  "0190a0b0-1c2d-9e3f-8a4b-000000000009",
  "4bf92f3577b34da6a3ce929d0e0e4736",
  "4BF92F3577B34DA6",
  "00f067aa0ba902b7",
  "rack-sfo-01",
  "-lead",
  "info",
  "gauge",
  "error",
  "internal",
  0,
  -0,
  1,
  -1,
  0.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 40,
  now,
  now + 0.5,
  Date.UTC(1990, 0, 1),
  2 ** 53 + 2,
  -(2 ** 60),
  3.5e38,
  true,
  false,
  new Uint8Array([0, 255, 7]),
  [],
  [1, "two", null, { three: 3 }],
  {},
  { "2": "integer-like key first", b: 1 },
  { nested: { deeper: { list: [1.25, -3, '\\slash"quote'] } }, ok: false },
  { __proto__: null, control: "\u0001\u001f\u007f", line: "\u2028" },
  { label: "v", other: "w" },
  { label: 5 },
  new Map([[1, "number key"]]),
];

describe("ingest's fast path (CBOR straight to stored rows)", () => {
  it("writes every sample record byte for byte as the schemas and the row encoder do", () => {
    for (const kind of BATCH_KINDS) {
      const data = cbor.encode({ v: 1, kind, records: SAMPLES[kind] });
      const fast = transcodeBatch(data, { oldest: 0, newest: Number.MAX_SAFE_INTEGER });
      expect(fast?.kind).toBe(kind);
      // The samples hold the awkward values the writers keep exactly; most must not need the slow path.
      expect(fast?.rows.length, kind).toBeGreaterThan(0);
      expect(fastPath(data), kind).toEqual(slowPath(data));
    }
  });

  it("keeps every row whole across the blocks rows are written into: rows of 1 byte to 200 KiB", () => {
    // Rows cross block ends (64 KiB) at every offset, and some are larger than a block.
    const [log] = SAMPLE_RECORDS.logs;
    const records = Array.from({ length: 600 }, (_, i) => ({
      ...log,
      message: i % 97 === 0 ? "é".repeat(100_000 + i) : "x".repeat((i * 7_919) % 3_000),
    }));
    const data = cbor.encode({ v: 1, kind: "logs", records });
    expect(transcodeBatch(data, { oldest: 0, newest: Number.MAX_SAFE_INTEGER })?.rows).toHaveLength(600);
    expect(fastPath(data)).toEqual(slowPath(data));
  });

  it("writes rows again into the same blocks after each reset, every cycle's rows whole", () => {
    // A pump's cycle: messages transcoded into one arena, their rows read (flushed), then the arena reset.
    const [log] = SAMPLE_RECORDS.logs;
    const messages = Array.from({ length: 6 }, (_, m) =>
      cbor.encode({
        v: 1,
        kind: "logs",
        records: Array.from({ length: 150 }, (_, i) => ({
          ...log,
          message: `${m}:${i}:${"x".repeat((i * 7_919 + m) % 2_000)}`,
        })),
      }),
    );
    const arena = new RowArena();
    const allocatedAfter: number[] = [];
    for (let cycle = 0; cycle < 4; cycle++) {
      const decoded = messages.map((data) => decodeBatchRows(data, limits, "parquet", arena));
      // Read only now, once every message of the cycle is written: a row overwritten by a later one fails.
      decoded.forEach((rows, m) => {
        if (!rows.ok) throw new Error(rows.reason);
        expect(comparable(rows.kind, rows.rows, rows.rejected)).toEqual(slowPath(messages[m] as Uint8Array));
      });
      arena.reset();
      allocatedAfter.push(arena.blocksAllocated);
    }
    // ~1.3 MB of rows a cycle: about 20 blocks, made in the first cycle and only reused after it.
    expect(allocatedAfter[0]).toBeGreaterThan(10);
    expect(new Set(allocatedAfter).size).toBe(1);
  });

  it("gives a message's rows the range of its flux ids, and metrics (no flux_id column) none", () => {
    const [log] = SAMPLE_RECORDS.logs;
    const ids = ["0190a0b0-1c2d-7e3f-8a4b-00000000000c", "0190a0b0-1c2d-7e3f-8a4b-00000000000a"];
    const logs = [...ids, null, "0190a0b0-1c2d-7e3f-8a4b-00000000000b"].map((flux_id) => ({
      ...log,
      flux_id,
    }));
    const data = cbor.encode({ v: 1, kind: "logs", records: logs });
    expect(transcodeBatch(data, { oldest: 0, newest: Number.MAX_SAFE_INTEGER })?.others).toEqual([]);
    const range = { flux_min: ids[1], flux_max: ids[0] };
    expect(fastPath(data)).toMatchObject({ flux: range });
    expect(slowPath(data)).toMatchObject({ flux: range });
    const [metric] = SAMPLE_RECORDS.metrics;
    const metrics = cbor.encode({ v: 1, kind: "metrics", records: [{ ...metric, flux_id: ids[0] }] });
    expect(fastPath(metrics)).toMatchObject({ flux: { flux_ids: "0" } });
    expect(slowPath(metrics)).toMatchObject({ flux: { flux_ids: "0" } });
  });

  it("gives records without an entity the batch's, on both paths, and leaves a bad batch entity to the schema", () => {
    const entity = { id: "0190a0b0-1c2d-7e3f-8a4b-00000000e001", name: "rack-from-batch" };
    for (const kind of BATCH_KINDS) {
      const records = SAMPLES[kind].map((record, i) => {
        // Every third keeps its own entity: a batch's entity is only for records naming none.
        if (i % 3 === 0) return record;
        const { entity_id: _id, entity_name: _name, ...rest } = record as Record<string, unknown>;
        return rest;
      });
      const data = cbor.encode({ v: 1, kind, entity, records });
      const fast = transcodeBatch(data, { oldest: 0, newest: Number.MAX_SAFE_INTEGER });
      expect(fast?.entity, kind).toEqual(entity);
      expect(fast?.rows.length, kind).toBeGreaterThan(0);
      const slow = slowPath(data);
      expect(fastPath(data), kind).toEqual(slow);
      // The rows carry the batch's name where the record named none.
      expect(JSON.stringify(slow).includes("rack-from-batch"), kind).toBe(true);
    }
    const bad = cbor.encode({ v: 1, kind: "logs", entity: { id: "not-a-uuid", name: "r" }, records: [{}] });
    expect(transcodeBatch(bad, { oldest: 0, newest: Number.MAX_SAFE_INTEGER })).toBeUndefined();
    expect(fastPath(bad)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^not a telemetry batch: entity\.id/),
    });
  });

  it("takes a record only when the schemas would, with the same bytes: 4,000 mutated records", () => {
    const random = seededRandom(20261201);
    let fastTaken = 0;
    for (let round = 0; round < 400; round++) {
      const kind = BATCH_KINDS[round % BATCH_KINDS.length] as BatchKind;
      const samples = SAMPLES[kind];
      const records = Array.from({ length: 10 }, () => {
        const record: Record<string, unknown> = {
          ...(samples[Math.floor(random() * samples.length)] as object),
        };
        const keys = Object.keys(record);
        for (let change = Math.floor(random() * 3); change > 0; change--) {
          const key = random() < 0.1 ? "extra" : (keys[Math.floor(random() * keys.length)] as string);
          if (random() < 0.15) delete record[key];
          else record[key] = AWKWARD[Math.floor(random() * AWKWARD.length)];
        }
        return record;
      });
      const data = cbor.encode({ v: 1, kind, records });
      const fast = transcodeBatch(data, {
        oldest: limits.now - limits.maxAgeMs,
        newest: limits.now + 86_400_000,
      });
      fastTaken += fast?.rows.length ?? 0;
      expect(fastPath(data), `round ${round}: ${kind}`).toEqual(slowPath(data));
    }
    // The test means something only if both paths were taken often.
    expect(fastTaken).toBeGreaterThan(400);
    expect(fastTaken).toBeLessThan(3_600);
  });

  it("leaves what the decoder changes to the slow path: repeated keys, float32, indefinite lengths", () => {
    const [log] = SAMPLE_RECORDS.logs;
    const good = cbor.encode({ v: 1, kind: "logs", records: [log] });
    // The record with one more pair, "level" again (cbor-x writes an object's map with a 16-bit length).
    const withRepeat = concat([cbor.encode(log), cbor.encode("level"), cbor.encode("warn")]);
    withRepeat[2] = (withRepeat[2] as number) + 1;
    const float32Ts = Uint8Array.from([0xfa, 0x3f, 0xc0, 0x00, 0x00]);
    const variants = [
      good,
      batchOf(withRepeat),
      batchOf(
        concat([
          Uint8Array.from([0xa2]),
          cbor.encode("ts"),
          float32Ts,
          cbor.encode("level"),
          cbor.encode("info"),
        ]),
      ),
      Uint8Array.from([0xbf, ...good.slice(1), 0xff]), // an indefinite-length map at the top
    ];
    for (const data of variants) expect(fastPath(data)).toEqual(slowPath(data));
  });

  it("reads the records wherever the message puts them, and only a message that ends where its map does", () => {
    const records = SAMPLE_RECORDS.logs;
    const encode = (...pairs: [string, unknown][]) =>
      concat([
        Uint8Array.from([0xa0 + pairs.length]),
        ...pairs.flatMap(([k, v]) => [cbor.encode(k), cbor.encode(v)]),
      ]);
    const variants = [
      encode(["v", 1], ["kind", "logs"], ["records", records]), // as racks write it
      encode(["records", records], ["v", 1], ["kind", "logs"]),
      encode(["v", 1], ["records", records], ["kind", "logs"], ["extra", 1]),
      encode(["v", 1], ["kind", "logs"], ["records", [records[0]]], ["records", records]), // the last one counts
      encode(["kind", "logs"], ["records", records]), // no version
      encode(["v", 2], ["kind", "logs"], ["records", records]),
      concat([encode(["v", 1], ["kind", "logs"], ["records", records]), Uint8Array.from([0x00])]), // trailing byte
    ];
    const taken = variants.map((data) => fastPath(data));
    for (const [i, data] of variants.entries()) expect(taken[i]).toEqual(slowPath(data));
    expect(taken.map((t) => t.ok)).toEqual([true, true, true, true, false, false, false]);
  });

  it("refuses alone a record the storage cannot hold, keeping its neighbours", () => {
    const [log] = SAMPLE_RECORDS.logs;
    const poison = { ...log, attributes: { big: 2n ** 70n } }; // a CBOR bignum: no JSON form
    const decoded = decodeBatchRows(
      cbor.encode({ v: 1, kind: "logs", records: [log, poison] }),
      limits,
      "parquet",
    );
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.rows).toHaveLength(1);
    expect(decoded.rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/^records\[1\]: cannot write logs as parquet: .*BigInt/),
    ]);
  });

  it("leaves format json to the schemas and NDJSON", () => {
    const data = cbor.encode({ v: 1, kind: "logs", records: SAMPLE_RECORDS.logs });
    const decoded = decodeBatchRows(data, limits, "json");
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(comparable(decoded.kind, decoded.rows, decoded.rejected)).toEqual(slowPath(data, "json"));
  });
});

/** A batch `{v: 1, kind: "logs", records: [record]}` around one record's own CBOR bytes. */
function batchOf(record: Uint8Array): Uint8Array {
  const head = cbor.encode({ v: 1, kind: "logs" });
  const map = Uint8Array.from(head);
  // cbor-x writes maps of objects with a 16-bit length: bump the pair count from 2 to 3.
  map[2] = 3;
  return concat([map, cbor.encode("records"), Uint8Array.from([0x81]), record]);
}
