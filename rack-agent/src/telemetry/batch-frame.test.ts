import { decode } from "cbor-x";
import { expect, it } from "vitest";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { batchRecords, telemetryBatchSchema } from "../../../shared/telemetry/batch.ts";
import { TELEMETRY_KINDS } from "../../../shared/telemetry/records.ts";
import { batchFrameSize, encodeBatch } from "./batch-frame.ts";

// Counts around every width of the CBOR array head (1, 2, 3 and 5 bytes).
it.each([1, 23, 24, 255, 256, 65_535, 65_536])(
  "frames %i records as a valid batch of every kind",
  (count) => {
    const records = Array.from({ length: count }, (_, i) =>
      cbor.encode({ i, note: i % 7 === 0 ? "x".repeat(30) : "" }),
    );
    for (const kind of TELEMETRY_KINDS) {
      const body = records.reduce((sum, record) => sum + record.length, 0);
      const joined = new Uint8Array(body);
      let at = 0;
      for (const record of records) {
        joined.set(record, at);
        at += record.length;
      }
      const data = encodeBatch(kind, count, joined);

      expect(data.length).toBe(batchFrameSize(kind, count) + body);
      const batch = telemetryBatchSchema.parse(decode(data));
      expect(batch.kind).toBe(kind);
      expect(batch.records).toHaveLength(count);
      expect(batch.records[count - 1]).toEqual({
        i: count - 1,
        note: (count - 1) % 7 === 0 ? "x".repeat(30) : "",
      });
    }
  },
);

it("writes the rack's entity once, before the records, and sizes the frame with it", () => {
  const entity = { id: "0190a0b0-1c2d-7e3f-8a4b-00000000e001", name: "rack-sfo-01" };
  const record = cbor.encode({ ts: 1, level: "info" });
  const data = encodeBatch("logs", 1, record, entity);
  expect(data.length).toBe(batchFrameSize("logs", 1, entity) + record.length);
  expect(batchFrameSize("logs", 1, entity)).toBeGreaterThan(batchFrameSize("logs", 1) + entity.id.length);
  const batch = telemetryBatchSchema.parse(decode(data));
  expect(batch.entity).toEqual(entity);
  expect(batchRecords(batch)).toEqual([
    { entity_id: entity.id, entity_name: entity.name, ts: 1, level: "info" },
  ]);
  // The entity's key comes before the records' (the mixer reads it first).
  expect(Object.keys(decode(data) as object)).toEqual(["v", "kind", "entity", "records"]);
});
