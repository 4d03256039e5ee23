import { beforeAll, describe, expect, it } from "vitest";
import type { MetricsAnswer } from "../../../shared/telemetry/query-results.ts";
import type { MetricRecord } from "../../../shared/telemetry/records.ts";
import { apiGet, loadEngine, qs, storeFlushes, testUuid } from "../../test-helpers/telemetry-api.ts";

/**
 * On 2025-06-12 from 12:00 UTC, one point a minute for ten minutes: `fx.queue_depth` (gauge) on rack a with
 * value k and on rack b with 10·k (one second later), label gear = router on even minutes, hsm on odd ones;
 * `fx.requests_total` (counter), 1 a minute on rack a; `fx.temp` (gauge), one point with no labels.
 */
const BASE = Date.UTC(2025, 5, 12, 12);
const WINDOW = { since: "2025-06-12T11:00:00Z", until: "2025-06-12T13:00:00Z" };

let n = 0;
const point = (
  name: string,
  type: MetricRecord["type"],
  entity: "a" | "b",
  ts: number,
  value: number,
  labels: Record<string, string> = {},
): MetricRecord => ({
  record_id: testUuid(0x30, ++n),
  ts,
  entity_id: testUuid(0xc, entity === "a" ? 1 : 2),
  entity_name: `fx-metrics-${entity}`,
  flux_id: null,
  name,
  type,
  value,
  labels,
});

const minutes = Array.from({ length: 10 }, (_, k) => k);
const gear = (k: number) => ({ gear: k % 2 ? "hsm" : "router" });
const metrics = [
  ...minutes.map((k) => point("fx.queue_depth", "gauge", "a", BASE + k * 60_000, k, gear(k))),
  ...minutes.map((k) => point("fx.queue_depth", "gauge", "b", BASE + k * 60_000 + 1_000, 10 * k, gear(k))),
  ...minutes.map((k) =>
    point("fx.requests_total", "counter", "a", BASE + k * 60_000, 1, { route: 'say "hi"' }),
  ),
  point("fx.temp", "gauge", "b", BASE + 30_000, 21.5),
];

const get = async (path: string, params: Record<string, string | number | undefined>) => {
  const { status, body } = await apiGet<MetricsAnswer>(
    `/api/v1/telemetry/metrics${path}?${qs({ ...WINDOW, ...params })}`,
  );
  expect(status, JSON.stringify(body)).toBe(200);
  return body;
};
const at = (minute: number) => new Date(BASE + minute * 60_000).toISOString();

beforeAll(async () => {
  await loadEngine();
  await storeFlushes("metrics", metrics, 2);
  // A redelivery: rack a's first queue_depth point stored again must still count once.
  await storeFlushes("metrics", metrics.slice(0, 1));
}, 120_000);

describe("GET /api/v1/telemetry/metrics/{metric_name}", () => {
  it("buckets by interval and groups by entity_name: count, sum, min, max, avg, and last for gauges", async () => {
    const answer = await get("/fx.queue_depth", { interval: "5m", group_by: "entity_name" });
    expect(answer).toMatchObject({ interval: "5m", group_by: "entity_name", limit: 50, truncated: false });
    expect(answer.series).toEqual([
      {
        name: "fx.queue_depth",
        type: "gauge",
        group: { entity_name: "fx-metrics-a" },
        points: [
          { ts: at(0), count: 5, sum: 10, min: 0, max: 4, avg: 2, last: 4 },
          { ts: at(5), count: 5, sum: 35, min: 5, max: 9, avg: 7, last: 9 },
        ],
      },
      {
        name: "fx.queue_depth",
        type: "gauge",
        group: { entity_name: "fx-metrics-b" },
        points: [
          { ts: at(0), count: 5, sum: 100, min: 0, max: 40, avg: 20, last: 40 },
          { ts: at(5), count: 5, sum: 350, min: 50, max: 90, avg: 70, last: 90 },
        ],
      },
    ]);
  });

  it("groups by a label, and merges entities in one series without group_by", async () => {
    const byGear = await get("/fx.queue_depth", { interval: "5m", group_by: "gear" });
    expect(
      byGear.series.map((s) => [s.group, s.points.map((p) => [p.count, p.sum, p.min, p.max, p.last])]),
    ).toEqual([
      // hsm: minutes 1, 3 (then 5, 7, 9) on both racks; the latest point is rack b's, a second after a's.
      [
        { gear: "hsm" },
        [
          [4, 44, 1, 30, 30],
          [6, 231, 5, 90, 90],
        ],
      ],
      [
        { gear: "router" },
        [
          [6, 66, 0, 40, 40],
          [4, 154, 6, 80, 80],
        ],
      ],
    ]);
    const merged = await get("/fx.queue_depth", { interval: "1h" });
    expect(merged.series).toEqual([
      {
        name: "fx.queue_depth",
        type: "gauge",
        group: {},
        points: [{ ts: at(0), count: 20, sum: 495, min: 0, max: 90, avg: 24.75, last: 90 }],
      },
    ]);
  });

  it("gives one bucket per minute at 1m, and none for minutes without data", async () => {
    const answer = await get("/fx.requests_total", { interval: "1m", since: at(-3), until: at(4) });
    expect(answer.series[0]?.points.map((p) => [p.ts, p.count, p.sum])).toEqual([
      [at(0), 1, 1],
      [at(1), 1, 1],
      [at(2), 1, 1],
      [at(3), 1, 1],
    ]);
    expect(answer.series[0]?.points[0]).not.toHaveProperty("last");
  });

  it("chooses the finest interval giving at most 60 buckets when none is given", async () => {
    expect((await get("/fx.requests_total", { since: at(0), until: at(60) })).interval).toBe("1m");
    expect((await get("/fx.requests_total", { since: at(0), until: at(61) })).interval).toBe("5m");
    expect((await get("/fx.requests_total", { since: at(0), until: at(24 * 60) })).interval).toBe("1h");
  });

  it("groups by a label with quotes, and gives null where a record lacks the label", async () => {
    const quoted = await get("/fx.requests_total", { interval: "1h", group_by: "route" });
    expect(quoted.series.map((s) => [s.group, s.points[0]?.count])).toEqual([[{ route: 'say "hi"' }, 10]]);
    const missing = await get("/fx.temp", { interval: "1h", group_by: "gear" });
    expect(missing.series.map((s) => [s.group, s.points[0]?.last])).toEqual([[{ gear: null }, 21.5]]);
  });
});

describe("GET /api/v1/telemetry/metrics", () => {
  it("returns every metric's series in name order, filtered by entity", async () => {
    const all = await get("", { interval: "1h", group_by: "entity_name" });
    expect(all.series.map((s) => [s.name, s.type, s.group.entity_name, s.points[0]?.count])).toEqual([
      ["fx.queue_depth", "gauge", "fx-metrics-a", 10],
      ["fx.queue_depth", "gauge", "fx-metrics-b", 10],
      ["fx.requests_total", "counter", "fx-metrics-a", 10],
      ["fx.temp", "gauge", "fx-metrics-b", 1],
    ]);
    const b = await get("", { interval: "1h", entity: "fx-metrics-b" });
    expect(b.series.map((s) => s.name)).toEqual(["fx.queue_depth", "fx.temp"]);
  });

  it("keeps the first `limit` series and says the rest were left out", async () => {
    const answer = await get("", { interval: "1h", group_by: "entity_name", limit: 2 });
    expect(answer.series.map((s) => s.group.entity_name)).toEqual(["fx-metrics-a", "fx-metrics-b"]);
    expect(answer.truncated).toBe(true);
    expect(answer.truncated_reason).toContain("more than 2 series");
  });

  it("answers a window with no data with no series", async () => {
    const answer = await get("", { since: "2001-01-01T00:00:00Z", until: "2001-01-01T01:00:00Z" });
    expect(answer).toMatchObject({ series: [], truncated: false });
  });
});
