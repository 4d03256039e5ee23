import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { partitionFolder } from "../../../../shared/storage/object-keys.ts";
import type { TraceAnswer } from "../../../../shared/telemetry/query-results.ts";
import type { SpanRecord } from "../../../../shared/telemetry/records.ts";
import { apiGet, loadEngine, qs, storeFlushes, testUuid } from "../../../test-helpers/telemetry-api.ts";
import type { MixerEnv } from "../../env.ts";
import { WRITE_SETTLE_MS } from "../write-records.ts";
import { compactPartition } from "./compact-partition.ts";

const bucket = (env as unknown as MixerEnv).TELEMETRY;
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR_MS = 3_600_000;
const START = Date.UTC(2025, 4, 12, 6);
const hours = [START, START + HOUR_MS, START + 2 * HOUR_MS];
const folders = hours.map((hour) => partitionFolder("telemetry/traces", hour, "hour"));
const window = { since: iso(START), until: iso(START + 3 * HOUR_MS) };

let n = 0;
/** A trace id as racks make them: 32 random-looking hex digits (here from a counter, spread by a multiplier). */
const traceId = (t: number) => (BigInt(t) * 0x9e3779b97f4a7c15n).toString(16).padStart(32, "0").slice(-32);
function span(ts: number, t: number, i: number, parent: string | null): SpanRecord {
  return {
    record_id: testUuid(0xd2, ++n),
    ts,
    trace_id: traceId(t),
    span_id: (t * 16 + i).toString(16).padStart(16, "0"),
    parent_span_id: parent,
    flux_id: null,
    entity_id: testUuid(0xd2, 0xfffff),
    entity_name: "rack-trace-index",
    span_name: `step ${i}`,
    duration_ms: 2,
    status: "ok",
    attributes: {},
  };
}
/** 150 traces an hour, three spans each. */
const spans = hours.flatMap((hour, h) =>
  Array.from({ length: 150 }, (_, k) => {
    const t = h * 1_000 + k;
    const root = span(hour + k * 20_000, t, 0, null);
    return [root, span(root.ts + 5, t, 1, root.span_id), span(root.ts + 9, t, 2, root.span_id)];
  }).flat(),
);
/** A trace of the middle hour. */
const WANTED = 1_077;

async function lookup(t: number): Promise<{ status: number; body: TraceAnswer }> {
  return apiGet<TraceAnswer>(`/api/v1/telemetry/traces/${traceId(t)}?${qs(window)}`);
}
const compactAll = () =>
  Promise.all(
    folders.map((folder) =>
      compactPartition(
        bucket,
        folder,
        { minObjects: 32, compression: "zstd" },
        Date.now() + WRITE_SETTLE_MS + 1,
      ),
    ),
  );

describe("the trace id index", () => {
  let before: TraceAnswer;

  beforeAll(async () => {
    await loadEngine();
    await storeFlushes("traces", spans, 30);
    before = (await lookup(WANTED)).body;
    expect(before.spans).toHaveLength(3);
  }, 300_000);

  it("made at compaction, lets a lookup read only the hour holding the trace, with the same answer", async () => {
    const reports = await compactAll();
    for (const report of reports) expect(report.traceIndex).toMatchObject({ written: true, traces: 150 });
    const { status, body } = await lookup(WANTED);
    expect(status).toBe(200);
    const { scanned: _, ...answer } = body;
    const { scanned: __, ...expected } = before;
    expect(answer).toEqual(expected);
    // The other two hours' indexes say the trace is not there: one compacted object read, not three.
    expect(body.scanned.objects).toBe(1);
    // A trace stored nowhere reads nothing at all.
    const missing = await lookup(99_999);
    expect(missing.status).toBe(404);
    expect((missing.body as unknown as { detail: string }).detail).toMatch(/no spans of trace/);
    // Nothing changed: the next pass keeps the indexes.
    for (const report of await compactAll()) expect(report.traceIndex).toMatchObject({ written: false });
  }, 300_000);

  it("a late span in an indexed hour is found: a stale index is not trusted until the hour is indexed again", async () => {
    const root = before.spans[0] as TraceAnswer["spans"][number];
    const late = span((hours[2] as number) + 1_000, WANTED, 7, root.span_id);
    await storeFlushes("traces", [late]);
    const { body } = await lookup(WANTED);
    expect(body.spans.map((s) => s.span_id)).toContain(late.span_id);
    expect(body.spans).toHaveLength(4);
    const reports = await compactAll();
    expect(reports.map((report) => report.traceIndex?.written)).toEqual([false, false, true]);
    const again = await lookup(WANTED);
    expect(again.body.spans).toHaveLength(4);
    expect(again.body.scanned.objects).toBe(2);
  }, 300_000);
});
