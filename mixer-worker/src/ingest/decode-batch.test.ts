import { describe, expect, it } from "vitest";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { decodeTelemetryBatch } from "./decode-batch.ts";

const now = Date.UTC(2026, 10, 30, 12);
const limits = { maxPayloadSize: 1 << 20, now, maxAgeMs: 30 * 86_400_000 };
const journalRecord = {
  record_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
  ts: now,
  trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  flux_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
  entity_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d",
  entity_name: "rack-a",
  src_gear_id: "parse",
  dst_gear_id: "auth",
  msg_type: "card.auth",
  direction: "internal",
  status: "ok",
  raw_msg: new Uint8Array([1, 2, 3]),
  promoted: { amount: 12 },
  spec: null,
};

describe("decodeTelemetryBatch with journal records", () => {
  it("validates each journal record, keeping the good ones and rejecting the bad one alone", () => {
    const data = cbor.encode({
      v: 1,
      kind: "messages",
      records: [journalRecord, { ...journalRecord, direction: "sideways" }],
    });
    const decoded = decodeTelemetryBatch(data, { ...limits, kinds: ["messages"] });
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.kind).toBe("messages");
    // cbor-x may hand back a Buffer (a Uint8Array) for the bytes: compare them as bytes.
    const [record] = decoded.records as (typeof journalRecord)[];
    expect(decoded.records).toHaveLength(1);
    expect(record?.raw_msg).toBeInstanceOf(Uint8Array);
    expect({ ...record, raw_msg: [...(record?.raw_msg ?? [])] }).toEqual({
      ...journalRecord,
      raw_msg: [1, 2, 3],
    });
    expect(decoded.rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/^records\[1\]\.direction/),
    ]);
  });

  it("refuses a batch whose kind its consumer does not take (the subject decides)", () => {
    const data = cbor.encode({ v: 1, kind: "messages", records: [journalRecord] });
    expect(decodeTelemetryBatch(data, { ...limits, kinds: ["logs", "metrics", "traces"] })).toEqual({
      ok: false,
      reason: "a messages batch on a subject for logs, metrics, traces",
    });
  });
});
