import { decode } from "cbor-x";
import { expect, it } from "vitest";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { telemetryBatchSchema } from "../../../shared/telemetry/batch.ts";
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
