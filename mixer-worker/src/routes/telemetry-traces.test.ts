import { beforeAll, describe, expect, it } from "vitest";
import type { TraceAnswer, TracesAnswer } from "../../../shared/telemetry/query-results.ts";
import type { SpanRecord } from "../../../shared/telemetry/records.ts";
import { apiGet, loadEngine, qs, storeFlushes, testUuid } from "../../test-helpers/telemetry-api.ts";

/** Traces on 2025-06-11 around 12:00 UTC. */
const BASE = Date.UTC(2025, 5, 11, 12);
const WINDOW = { since: "2025-06-11T10:00:00Z", until: "2025-06-11T14:00:00Z" };
const FLUX = testUuid(0xb, 1);
const T1 = "11111111111111111111111111111111";
const T2 = "22222222222222222222222222222222";
const T3 = "33333333333333333333333333333333";
/** Its root starts in the 11:00 partition, its child in the 12:00 one. */
const T4 = "44444444444444444444444444444444";

let n = 0;
const span = (
  trace_id: string,
  span_id: string,
  parent_span_id: string | null,
  ts: number,
  duration_ms: number,
  status: SpanRecord["status"] = "ok",
  flux_id: string | null = null,
): SpanRecord => ({
  record_id: testUuid(0x20, ++n),
  ts,
  entity_id: testUuid(0xb, 2),
  entity_name: "fx-traces",
  flux_id,
  trace_id,
  span_id,
  parent_span_id,
  span_name: `op-${span_id.slice(0, 4)}`,
  duration_ms,
  status,
  attributes: { step: span_id.slice(0, 4) },
});

const spans = [
  span(T1, "a000000000000001", null, BASE, 120),
  span(T1, "a000000000000002", "a000000000000001", BASE + 5, 30),
  span(T1, "a000000000000003", "a000000000000001", BASE + 40, 50, "error"),
  span(T1, "a000000000000004", "a000000000000003", BASE + 45, 10),
  span(T1, "a000000000000005", "ffffffffffffffff", BASE + 1, 2),
  span(T2, "b000000000000001", null, BASE + 60_000, 2_000, "error", FLUX),
  span(T3, "c000000000000001", null, BASE - 1_800_000, 10),
  span(T4, "d000000000000001", null, BASE - 10, 25),
  span(T4, "d000000000000002", "d000000000000001", BASE + 10, 5),
];

const list = async (params: Record<string, string | number | undefined>) => {
  const { status, body } = await apiGet<TracesAnswer>(
    `/api/v1/telemetry/traces?${qs({ ...WINDOW, ...params })}`,
  );
  expect(status, JSON.stringify(body)).toBe(200);
  return body.traces.map((trace) => trace.trace_id);
};

beforeAll(async () => {
  await loadEngine();
  // Children and roots in different flushes, and T1's root stored twice (a redelivery).
  await storeFlushes("traces", spans, 3);
  await storeFlushes("traces", spans.slice(0, 1));
}, 120_000);

describe("GET /api/v1/telemetry/traces", () => {
  it("lists traces by their root span, newest first, once each", async () => {
    expect(await list({})).toEqual([T2, T1, T4, T3]);
    const { body } = await apiGet<TracesAnswer>(`/api/v1/telemetry/traces?${qs({ ...WINDOW, limit: 1 })}`);
    expect(body.traces).toEqual([
      {
        ts: "2025-06-11T12:01:00.000Z",
        trace_id: T2,
        span_id: "b000000000000001",
        span_name: "op-b000",
        duration_ms: 2000,
        status: "error",
        entity_id: testUuid(0xb, 2),
        entity_name: "fx-traces",
        flux_id: FLUX,
        record_id: spans[5]?.record_id,
      },
    ]);
    expect(body.next).not.toBeNull();
  });

  it("filters by status, min_duration_ms, flux_id and entity", async () => {
    expect(await list({ status: "error" })).toEqual([T2]);
    expect(await list({ status: "ok" })).toEqual([T1, T4, T3]);
    expect(await list({ min_duration_ms: 120 })).toEqual([T2, T1]);
    expect(await list({ min_duration_ms: 24.5 })).toEqual([T2, T1, T4]);
    expect(await list({ flux_id: FLUX })).toEqual([T2]);
    expect(await list({ entity: "nobody" })).toEqual([]);
    expect(await list({ since: "2025-06-11T11:59:00Z", until: "2025-06-11T12:01:00Z" })).toEqual([T1, T4]);
  });

  it("pages by cursor and by offset through the same order", async () => {
    const byCursor: string[] = [];
    let next: string | null = null;
    do {
      const { body }: { body: TracesAnswer } = await apiGet(
        `/api/v1/telemetry/traces?${qs({ ...WINDOW, limit: 1, cursor: next ?? undefined })}`,
      );
      byCursor.push(...body.traces.map((trace) => trace.trace_id));
      next = body.next;
    } while (next);
    expect(byCursor).toEqual([T2, T1, T4, T3]);
    expect(await list({ limit: 2, offset: 2 })).toEqual([T4, T3]);
  });
});

describe("GET /api/v1/telemetry/traces/{trace_id}", () => {
  const tree = async (id: string, params: Record<string, string> = WINDOW) => {
    const { status, body } = await apiGet<TraceAnswer>(`/api/v1/telemetry/traces/${id}?${qs(params)}`);
    expect(status, JSON.stringify(body)).toBe(200);
    return body;
  };

  it("assembles the tree depth-first: parents before children, siblings by start, orphans as roots", async () => {
    const answer = await tree(T1);
    expect(answer.trace_id).toBe(T1);
    expect(answer.spans.map((s) => [s.span_id, s.parent_span_id, s.depth, s.orphan])).toEqual([
      ["a000000000000001", null, 0, false],
      ["a000000000000002", "a000000000000001", 1, false],
      ["a000000000000003", "a000000000000001", 1, false],
      ["a000000000000004", "a000000000000003", 2, false],
      ["a000000000000005", "ffffffffffffffff", 0, true],
    ]);
    expect(answer.spans[2]).toMatchObject({
      ts: "2025-06-11T12:00:00.040Z",
      span_name: "op-a000",
      duration_ms: 50,
      status: "error",
      attributes: { step: "a000" },
    });
  });

  it("finds spans of one trace in two partitions", async () => {
    const answer = await tree(T4);
    expect(answer.spans.map((s) => [s.span_id, s.depth])).toEqual([
      ["d000000000000001", 0],
      ["d000000000000002", 1],
    ]);
  });

  it("answers 404 naming the trace when the window holds none of its spans", async () => {
    const { status, body } = await apiGet<{ parameter: string; detail: string }>(
      `/api/v1/telemetry/traces/${"5".repeat(32)}?${qs(WINDOW)}`,
    );
    expect(status).toBe(404);
    expect(body.parameter).toBe("trace_id");
    expect(body.detail).toContain("5".repeat(32));
    expect(
      (await apiGet(`/api/v1/telemetry/traces/${T1}?since=2025-06-12T00:00:00Z&until=2025-06-12T01:00:00Z`))
        .status,
    ).toBe(404);
  });
});
