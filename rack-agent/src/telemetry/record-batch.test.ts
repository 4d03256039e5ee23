import { decode } from "cbor-x";
import { expect, it } from "vitest";
import { telemetryBatchSchema } from "../../../shared/telemetry/batch.ts";
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

  expect(telemetryBatchSchema.parse(decode(first.data)).records).toEqual(records(0, 500));
  expect(first.records).toBe(500);
  expect(telemetryBatchSchema.parse(decode(second.data)).records).toEqual(records(500, 510));
  expect(second.records).toBe(10);
});
