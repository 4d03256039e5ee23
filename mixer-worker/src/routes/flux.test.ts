import { beforeAll, describe, expect, it } from "vitest";
import type { FluxAnswer } from "../../../shared/journal/query-results.ts";
import type { JournalRecord } from "../../../shared/journal/record.ts";
import { partitionSpan } from "../../../shared/storage/object-keys.ts";
import type { LogRecord, SpanRecord } from "../../../shared/telemetry/records.ts";
import {
  apiGet,
  loadEngine,
  qs,
  storeFlushes,
  storeMessageFlushes,
  testUuid,
} from "../../test-helpers/telemetry-api.ts";
import { mixerEnv } from "../../test-helpers/test-rack.ts";
import { mayHoldFlux } from "../store/object-flux-range.ts";
import { uuidV7At } from "../store/sample-records.ts";

/** The flux starts 30 s before 11:00 UTC on 2025-07-03, so its hops cross into the next hour partition. */
const T = Date.UTC(2025, 6, 3, 10, 59, 30);
const FLUX = uuidV7At(T, 1);
const OTHER = uuidV7At(T, 2);
const TRACE = "f1".repeat(16);
const SIDE_TRACE = "f2".repeat(16);

let n = 0;
const hop = (
  ts: number,
  entity: string,
  src: string | null,
  dst: string | null,
  over: Partial<JournalRecord> = {},
): JournalRecord => ({
  record_id: testUuid(0x4f, ++n),
  ts,
  trace_id: TRACE,
  flux_id: FLUX,
  entity_id: testUuid(0x4e, entity === "rack-sfo-01" ? 1 : 2),
  entity_name: entity,
  src_gear_id: src,
  dst_gear_id: dst,
  msg_type: "0100",
  direction: src === null ? "inbound" : dst === null ? "outbound" : "internal",
  status: "ok",
  raw_msg: Uint8Array.of(n),
  promoted: { amount: 1250 },
  spec: "visa-v1",
  ...over,
});

/** Hops in the order the flow made them; two share a time, so record order decides. */
const hops = [
  hop(T, "rack-sfo-01", null, "decode"),
  hop(T + 40, "rack-sfo-01", "decode", "router", { spec: null, promoted: null }),
  hop(T + 40, "rack-sfo-01", "router", "hsm"),
  hop(T + 35_000, "rack-nyc-02", "hsm", "switch-out", { status: "error", msg_type: "0110" }),
  hop(T + 36_000, "rack-nyc-02", "switch-out", null, { msg_type: "0110" }),
];
const decoys = [
  hop(T + 10, "rack-sfo-01", null, "decode", { flux_id: OTHER, trace_id: "ab".repeat(16) }),
  // The same flux id far outside the window the id names: found only when since/until widen it.
  hop(T + 3 * 3_600_000, "rack-sfo-01", "late", "later"),
  hop(T - 4 * 3_600_000, "rack-sfo-01", "early", "earlier", { flux_id: OTHER }),
];

const span = (
  span_id: string,
  parent: string | null,
  ts: number,
  trace_id = TRACE,
  flux_id: string | null = null,
): SpanRecord => ({
  record_id: testUuid(0x4d, ++n),
  ts,
  entity_id: testUuid(0x4e, 1),
  entity_name: "rack-sfo-01",
  flux_id,
  trace_id,
  span_id,
  parent_span_id: parent,
  span_name: `op-${span_id.slice(0, 2)}`,
  duration_ms: 5,
  status: span_id.startsWith("c") ? "error" : "ok",
  attributes: {},
});
const spans = [
  span("a000000000000001", null, T),
  span("b000000000000002", "a000000000000001", T + 40),
  span("c000000000000003", "b000000000000002", T + 35_000),
  span("d000000000000004", null, T + 50, SIDE_TRACE, FLUX),
  span("e000000000000005", null, T + 60, "ee".repeat(16), OTHER),
];
const log = (ts: number, flux_id: string | null, message: string): LogRecord => ({
  record_id: testUuid(0x4c, ++n),
  ts,
  entity_id: testUuid(0x4e, 2),
  entity_name: "rack-nyc-02",
  flux_id,
  level: message.includes("declined") ? "error" : "info",
  message,
  attributes: {},
});
const logs = [
  log(T + 35_001, FLUX, "issuer declined (05)"),
  log(T + 20, FLUX, "routed to hsm"),
  log(T + 30, OTHER, "other flow"),
  log(T - 5 * 3_600_000, null, "long before"),
];

const get = async (id: string, params: Record<string, string> = {}) => {
  const { status, body } = await apiGet<FluxAnswer>(`/api/v1/flux/${id}?${qs(params)}`);
  expect(status, JSON.stringify(body)).toBe(200);
  return body;
};

beforeAll(async () => {
  await loadEngine();
  await storeMessageFlushes([...hops, ...decoys], 2);
  await storeMessageFlushes([hops[2] as JournalRecord]);
  await storeFlushes("traces", spans, 2);
  await storeFlushes("logs", logs);
}, 120_000);

describe("GET /api/v1/flux/{flux_id}", () => {
  it("answers the flux's messages in hop order, its traces' spans as trees, and its logs", async () => {
    const answer = await get(FLUX);
    expect(answer.flux_id).toBe(FLUX);
    expect(answer.truncated).toBe(false);
    expect(answer.messages.map((m) => [m.hop, m.offset_ms, m.record_id])).toEqual(
      hops.map((h, i) => [i, h.ts - T, h.record_id]),
    );
    expect(answer.messages[3]).toMatchObject({
      status: "error",
      src_gear_id: "hsm",
      entity_name: "rack-nyc-02",
      spec: "visa-v1",
      promoted: { amount: 1250 },
    });
    expect(answer.messages[1]?.spec).toBeNull();
    expect(answer.messages.every((m) => !("raw_msg" in m))).toBe(true);
    expect(answer.trace_ids).toEqual([TRACE, SIDE_TRACE]);
    expect(answer.spans.map((s) => [s.span_id, s.depth])).toEqual([
      ["a000000000000001", 0],
      ["b000000000000002", 1],
      ["c000000000000003", 2],
      ["d000000000000004", 0],
    ]);
    expect(answer.logs.map((l) => l.message)).toEqual(["routed to hsm", "issuer declined (05)"]);
    expect(answer.window).toEqual({
      since: new Date(T - 60_000).toISOString(),
      until: new Date(T + 15 * 60_000).toISOString(),
    });
    const raw = await get(FLUX, { include_raw: "true" });
    expect(raw.messages.map((m) => m.raw_msg)).toEqual(
      hops.map((h) => btoa(String.fromCharCode(...(h.raw_msg ?? [])))),
    );
  });

  it("reads only the objects of the hours the flux id names", async () => {
    const answer = await get(FLUX);
    const named = [10, 11].map((h) => Date.UTC(2025, 6, 3, h));
    const listed = await mixerEnv.TELEMETRY.list({ limit: 1_000, include: ["customMetadata"] });
    // Of those, spans are read whatever their flux (a trace's spans are looked up by trace id too); messages
    // and logs only where the object's flux range holds it (flux-pruning.test.ts).
    const inNamedHours = listed.objects.filter(
      (o) =>
        named.includes(partitionSpan(o.key)?.start ?? -1) &&
        (o.key.startsWith("telemetry/traces/") || mayHoldFlux(o.customMetadata, FLUX)),
    );
    const elsewhere = listed.objects.length - inNamedHours.length;
    expect(elsewhere).toBeGreaterThan(0);
    expect(answer.scanned.objects).toBe(inNamedHours.length);
  });

  it("widens the search with since and until", async () => {
    const wide = await get(FLUX, {
      since: new Date(T - 60_000).toISOString(),
      until: new Date(T + 4 * 3_600_000).toISOString(),
    });
    expect(wide.messages.map((m) => m.src_gear_id)).toEqual([...hops.map((h) => h.src_gear_id), "late"]);
  });

  it("answers 404 naming the flux id when nothing is found, 400 for a malformed id", async () => {
    const missing = await apiGet<{ parameter: string; detail: string }>(`/api/v1/flux/${uuidV7At(T, 99)}`);
    expect(missing.status).toBe(404);
    expect(missing.body.parameter).toBe("flux_id");
    expect(missing.body.detail).toContain(uuidV7At(T, 99));
    for (const [path, parameter] of [
      ["not-a-uuid", "flux_id"],
      [`${"0".repeat(8)}-0000-4000-8000-${"0".repeat(12)}`, "flux_id"],
      [`${FLUX}?include_raw=1`, "include_raw"],
      [`${FLUX}?status=ok`, "status"],
      [`${FLUX}?since=2025-07-01T00:00:00Z&until=2025-07-09T00:00:00Z`, "since"],
    ] as const) {
      const { status, body } = await apiGet<{ parameter: string }>(`/api/v1/flux/${path}`);
      expect([status, body.parameter], path).toEqual([400, parameter]);
    }
    // Any UUID with since: a v4 id names no time, so the window must be given.
    const v4 = await apiGet(`/api/v1/flux/${"0".repeat(8)}-0000-4000-8000-${"0".repeat(12)}?since=1h`);
    expect(v4.status).toBe(404);
  });
});
