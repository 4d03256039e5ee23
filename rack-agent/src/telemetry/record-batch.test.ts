import { decode } from "cbor-x";
import { expect, it } from "vitest";
import { telemetryBatchSchema } from "../../../shared/telemetry/batch.ts";
import { envelopeContents } from "../../../shared/telemetry/batch-envelope.ts";
import { deflateBatch, openBatch } from "./batch-deflate.ts";
import { RecordBatch } from "./record-batch.ts";
import { encodeTransient } from "./transient-cbor.ts";

it("keeps each record's bytes though the encoder reuses its buffer, across growth and seals", () => {
  const batch = new RecordBatch("logs");
  const records = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => ({ i: from + i, note: "x".repeat((from + i) % 300) }));
  // More than the batch's first buffer holds, so it grows while filling.
  for (const record of records(0, 500)) batch.add(encodeTransient(record));
  const first = batch.seal("flux.telemetry.logs.rack-01");
  for (const record of records(500, 510)) batch.add(encodeTransient(record));
  const second = batch.seal("flux.telemetry.logs.rack-01");

  expect(telemetryBatchSchema.parse(decode(openBatch(first.data))).records).toEqual(records(0, 500));
  expect(first.records).toBe(500);
  expect(telemetryBatchSchema.parse(decode(openBatch(second.data))).records).toEqual(records(500, 510));
  expect(second.records).toBe(10);
});

it("deflates what shrinks and sends the rest as it is; either opens to the same batch", () => {
  const batch = new RecordBatch("logs");
  for (let i = 0; i < 200; i++) {
    batch.add(
      encodeTransient({ record_id: `0190a0b0-1c2d-7e3f-8a4b-${String(i).padStart(12, "0")}`, level: "info" }),
    );
  }
  const sealed = batch.seal("flux.telemetry.logs.rack-01");
  expect(envelopeContents(sealed.data)).toBeDefined();
  const plain = decode(openBatch(sealed.data)) as { records: unknown[] };
  expect(plain.records).toHaveLength(200);
  // Repetitive records shrink several times over.
  expect(sealed.data.length * 4).toBeLessThan(openBatch(sealed.data).length);
  // Random bytes do not shrink: the batch goes as it is, and opens as itself.
  const random = Uint8Array.from({ length: 4_000 }, () => Math.floor(Math.random() * 256));
  expect(deflateBatch(random)).toBe(random);
  expect(openBatch(random)).toBe(random);
});
