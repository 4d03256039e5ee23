import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { METRICS_ROLLUP, partitionFolder, sidecarKey } from "../../../../shared/storage/object-keys.ts";
import type { MetricsAnswer } from "../../../../shared/telemetry/query-results.ts";
import type { MetricRecord } from "../../../../shared/telemetry/records.ts";
import { apiGet, loadEngine, qs, storeFlushes, testUuid } from "../../../test-helpers/telemetry-api.ts";
import type { MixerEnv } from "../../env.ts";
import { markFailed } from "../partition-sidecars.ts";
import { WRITE_SETTLE_MS } from "../write-records.ts";
import { type CompactionSettings, compactPartition } from "./compact-partition.ts";

const bucket = (env as unknown as MixerEnv).TELEMETRY;
const SETTINGS: CompactionSettings = { minObjects: 32, compression: "zstd" };
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR_MS = 3_600_000;
/** Three closed hours of metrics: the middle one is the one windows below cover whole. */
const START = Date.UTC(2025, 3, 7, 10);
const [H0, H1, H2] = [START, START + HOUR_MS, START + 2 * HOUR_MS];
const hours = [H0, H1, H2];
const folders = hours.map((hour) => partitionFolder("telemetry/metrics", hour, "hour"));

let n = 0;
const racks = ["rack-roll-a", "rack-roll-b", "rack-roll-c"];
/** Counters, gauges and histograms of three racks, labelled by gear; values are exact in binary (quarters). */
function point(ts: number, i: number): MetricRecord {
  const type = (["counter", "gauge", "histogram"] as const)[i % 3] as MetricRecord["type"];
  const rack = racks[i % racks.length] as string;
  return {
    record_id: testUuid(0xd1, ++n),
    ts,
    entity_id: testUuid(0xd1, 0xf0000 + (i % racks.length)),
    entity_name: rack,
    flux_id: null,
    name: `fx.rollup.${type}`,
    type,
    value: ((i * 7) % 23) / 4 - 2,
    labels: { gear: `gear-${i % 4}`, ...(i % 5 === 0 ? { port: "in" } : {}) },
  };
}

/** The answers compared, with and without rollups: each interval, grouped by a column and by a label. */
const QUERIES = [
  { interval: "1m", group_by: "entity_name", since: H0, until: START + 3 * HOUR_MS },
  { interval: "5m", group_by: "gear", since: START + 17 * 60_000, until: START + 2 * HOUR_MS + 43 * 60_000 },
  { interval: "1h", since: H0, until: START + 3 * HOUR_MS },
  { interval: "1h", group_by: "port", name: "fx.rollup.gauge", since: H1, until: H2 },
  { interval: "5m", entity: "rack-roll-b", name: "fx.rollup.counter", since: H1, until: H2 },
] as const;

async function answer(query: (typeof QUERIES)[number]): Promise<MetricsAnswer> {
  const { name, since, until, ...params } = { name: undefined as string | undefined, ...query };
  const path = name ? `/api/v1/telemetry/metrics/${name}` : "/api/v1/telemetry/metrics";
  const { status, body } = await apiGet<MetricsAnswer>(
    `${path}?${qs({ ...params, since: iso(since), until: iso(until), limit: 100 })}`,
  );
  expect(status, JSON.stringify(body)).toBe(200);
  expect(body.truncated).toBe(false);
  return body;
}

const withoutScanned = ({ scanned: _, ...rest }: MetricsAnswer) => rest;
/** A pass at a time every object is settled and every hour long closed. */
const compactAll = async () => {
  const now = Date.now() + WRITE_SETTLE_MS + 1;
  return Promise.all(folders.map((folder) => compactPartition(bucket, folder, SETTINGS, now)));
};

describe("metrics rollups", () => {
  let raw: MetricsAnswer[];

  beforeAll(async () => {
    await loadEngine();
    const points = hours.flatMap((hour) => Array.from({ length: 600 }, (_, i) => point(hour + i * 5_900, i)));
    // Ten flushes an hour's worth, and a redelivery of some of them: copies count once.
    await storeFlushes("metrics", points, 30);
    await storeFlushes("metrics", points.slice(700, 760));
    raw = [];
    for (const query of QUERIES) raw.push(await answer(query));
  }, 300_000);

  it("made at compaction, they give the answers the rows give, reading one small object per whole hour", async () => {
    const reports = await compactAll();
    for (const report of reports) expect(report.rollup).toMatchObject({ written: true });
    for (const [i, query] of QUERIES.entries()) {
      const rolled = await answer(query);
      expect(withoutScanned(rolled), JSON.stringify(query)).toEqual(withoutScanned(raw[i] as MetricsAnswer));
    }
    // Over three whole hours at 1h: three rollups and no rows; the hours cut by the window still read rows.
    expect(raw[2]?.scanned.rollups).toBeUndefined();
    expect((await answer(QUERIES[2])).scanned).toMatchObject({ objects: 3, rollups: 3 });
    expect((await answer(QUERIES[1])).scanned).toMatchObject({ objects: 3, rollups: 1 });
    const rollup = await bucket.head(sidecarKey(METRICS_ROLLUP, folders[1] as string));
    expect(Number(rollup?.customMetadata?.records)).toBeGreaterThan(0);
    // Nothing changed: the next pass keeps them.
    for (const report of await compactAll()) expect(report.rollup).toMatchObject({ written: false });
  }, 300_000);

  it("a late record makes readers read the hour's rows until the next pass rolls it up again", async () => {
    const late: MetricRecord = { ...point((hours[1] as number) + 1_234, 0), value: 1_000 };
    await storeFlushes("metrics", [late]);
    const query = QUERIES[2];
    const stale = await answer(query);
    // The stale rollup stands for objects the folder no longer is: the hour is read from its rows.
    expect(stale.scanned).toMatchObject({ objects: 4, rollups: 2 });
    const counter = (a: MetricsAnswer) =>
      a.series
        .find((s) => s.name === "fx.rollup.counter")
        ?.points.find((p) => p.ts === iso(hours[1] as number));
    const before = counter(raw[2] as MetricsAnswer);
    expect(counter(stale)).toMatchObject({
      count: (before?.count ?? 0) + 1,
      sum: (before?.sum ?? 0) + 1_000,
      max: 1_000,
    });
    const reports = await compactAll();
    expect(reports.map((report) => report.rollup?.written)).toEqual([false, true, false]);
    const again = await answer(query);
    expect(again.scanned).toMatchObject({ objects: 3, rollups: 3 });
    expect(withoutScanned(again)).toEqual(withoutScanned(stale));
  }, 300_000);

  it("a rollup that could not be made is neither read nor tried again until the hour changes", async () => {
    const key = sidecarKey(METRICS_ROLLUP, folders[1] as string);
    const sources = (await bucket.head(key))?.customMetadata?.sources as string;
    const good = await answer(QUERIES[2]);
    await markFailed(bucket, { key, live: [], sources }, new Error("out of memory (a test)"));
    const rows = await answer(QUERIES[2]);
    expect(rows.scanned).toMatchObject({ rollups: 2 });
    expect(withoutScanned(rows)).toEqual(withoutScanned(good));
    const reports = await compactAll();
    expect(reports[1]?.rollup).toEqual({ written: false, rows: 0 });
    expect((await bucket.head(key))?.customMetadata?.failed).toBe("out of memory (a test)");
  }, 300_000);

  it("rolls a busy hour up within the engine's memory (60,000 rows)", async () => {
    const HOUR = Date.UTC(2025, 5, 1, 3);
    const busy = Array.from(
      { length: 60_000 },
      (_, i): MetricRecord => ({
        ...point(HOUR + Math.floor(i / 500) * 30_000 + (i % 500) * 10, i),
        entity_id: testUuid(0xd1, 0xe0000 + (i % 50)),
        entity_name: `rack-busy-${i % 50}`,
        name: `fx.busy.${i % 10}`,
      }),
    );
    await storeFlushes("metrics", busy, 12);
    const folder = partitionFolder("telemetry/metrics", HOUR, "hour");
    const report = await compactPartition(bucket, folder, SETTINGS, Date.now() + WRITE_SETTLE_MS + 1);
    expect(report.rollup?.written).toBe(true);
    // DuckDB-wasm's any_value() of a UUID in a GROUP BY once took this pass from 48 MiB to 1.9 GB.
    expect(report.memory?.wasmGrowth ?? 0).toBeLessThan(64 * 2 ** 20);
  }, 300_000);
});
