import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { partitionFolder } from "../../../../shared/storage/object-keys.ts";
import type {
  LogsAnswer,
  MetricsAnswer,
  TraceAnswer,
  TracesAnswer,
} from "../../../../shared/telemetry/query-results.ts";
import type { LogRecord, MetricRecord, SpanRecord } from "../../../../shared/telemetry/records.ts";
import { apiGet, loadEngine, qs, storeFlushes, testUuid } from "../../../test-helpers/telemetry-api.ts";
import type { MixerEnv } from "../../env.ts";
import { applyRetention } from "../../retention/apply-retention.ts";
import { getDuckDb } from "../duckdb.ts";
import { listAll } from "../list-pages.ts";
import { sortOutObjects } from "../live-objects.ts";
import { WRITE_SETTLE_MS } from "../write-records.ts";
import { type CompactionSettings, compactPartition } from "./compact-partition.ts";
import { DELETE_AFTER_MS } from "./plan.ts";

const bucket = (env as unknown as MixerEnv).TELEMETRY;
const SETTINGS: CompactionSettings = { minObjects: 32, compression: "zstd" };
/** Every object written so far is old enough for a pass at this time. */
const settled = () => Date.now() + WRITE_SETTLE_MS + 1;
const iso = (ms: number) => new Date(ms).toISOString();

let n = 0;
const uuid = () => testUuid(0xc0, ++n);
const log = (ts: number, level: LogRecord["level"] = "info"): LogRecord => ({
  record_id: uuid(),
  ts,
  entity_id: testUuid(0xc0, 0xfffff),
  entity_name: "rack-compact",
  flux_id: null,
  level,
  message: `message at ${ts}`,
  attributes: { gear_id: `gear-${ts % 3}` },
});
const metric = (ts: number, entity: string, value: number): MetricRecord => ({
  record_id: uuid(),
  ts,
  entity_id: testUuid(0xc0, 0xffffe),
  entity_name: entity,
  flux_id: null,
  name: "fx.compact.depth",
  type: "gauge",
  value,
  labels: { gear: entity },
});
const span = (ts: number, trace: number, parent: string | null, i: number): SpanRecord => ({
  record_id: uuid(),
  ts,
  trace_id: trace.toString(16).padStart(32, "0"),
  span_id: (trace * 16 + i).toString(16).padStart(16, "0"),
  parent_span_id: parent,
  flux_id: null,
  entity_id: testUuid(0xc0, 0xffffd),
  entity_name: "rack-compact",
  span_name: `step ${i}`,
  duration_ms: 1.5 * i,
  status: trace % 5 ? "ok" : "error",
  attributes: {},
});

/** Everything a folder holds, and what readers read of it. */
async function folderObjects(folder: string) {
  const objects = await listAll(bucket, { prefix: folder });
  return { all: objects, live: sortOutObjects(objects).live };
}

/** The record ids in the objects readers read, each as often as they are stored there. */
async function storedIds(folder: string): Promise<string[]> {
  const db = await getDuckDb();
  const ids: string[] = [];
  for (const object of (await folderObjects(folder)).live) {
    const body = await bucket.get(object.key);
    if (!body) throw new Error(`${object.key} is live but gone`);
    const name = `compaction-test/${object.key}`;
    db.registerBuffer(name, new Uint8Array(await body.arrayBuffer()));
    try {
      ids.push(...db.query(`SELECT record_id::VARCHAR AS id FROM '${name}'`).map((row) => String(row.id)));
    } finally {
      db.dropFile(name);
    }
  }
  return ids.sort();
}

/** Every log of a window, page after page, newest first. */
async function allLogs(since: number, until: number): Promise<{ ids: string[]; objects: number }> {
  const ids: string[] = [];
  let objects = 0;
  let cursor: string | undefined;
  do {
    const { status, body } = await apiGet<LogsAnswer>(
      `/api/v1/telemetry/logs?${qs(cursor ? { limit: 1000, cursor } : { since: iso(since), until: iso(until), limit: 1000 })}`,
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.truncated).toBe(false);
    ids.push(...body.logs.map((entry) => entry.record_id));
    objects = Math.max(objects, body.scanned.objects);
    cursor = body.next ?? undefined;
  } while (cursor);
  return { ids, objects };
}

const sorted = (ids: readonly string[]) => [...ids].sort();
const withoutScanned = <T extends { scanned: unknown }>({ scanned: _, ...rest }: T) => rest;

describe("a compacted hour", () => {
  const HOUR = Date.UTC(2025, 1, 5, 9);
  const window = { since: iso(HOUR), until: iso(HOUR + 3_600_000) };
  const folders = {
    logs: partitionFolder("telemetry/logs", HOUR, "hour"),
    metrics: partitionFolder("telemetry/metrics", HOUR, "hour"),
    traces: partitionFolder("telemetry/traces", HOUR, "hour"),
  };
  const logs = Array.from({ length: 2_000 }, (_, i) => log(HOUR + i * 1_700, i % 9 ? "info" : "error"));
  const metrics = Array.from({ length: 1_000 }, (_, i) => metric(HOUR + i * 3_500, `rack-${i % 4}`, i % 17));
  const spans = Array.from({ length: 200 }, (_, t) => {
    const root = span(HOUR + t * 17_000, 0xc0000 + t, null, 0);
    return [
      root,
      span(root.ts + 3, 0xc0000 + t, root.span_id, 1),
      span(root.ts + 5, 0xc0000 + t, root.span_id, 2),
    ];
  }).flat();

  const answers = async () => ({
    logs: await allLogs(HOUR, HOUR + 3_600_000),
    errors: (
      await apiGet<LogsAnswer>(`/api/v1/telemetry/logs?${qs({ ...window, level: "error", limit: 100 })}`)
    ).body,
    metrics: (
      await apiGet<MetricsAnswer>(
        `/api/v1/telemetry/metrics/fx.compact.depth?${qs({ ...window, interval: "5m", group_by: "entity_name" })}`,
      )
    ).body,
    traces: (
      await apiGet<TracesAnswer>(`/api/v1/telemetry/traces?${qs({ ...window, status: "error", limit: 20 })}`)
    ).body,
    trace: (
      await apiGet<TraceAnswer>(
        `/api/v1/telemetry/traces/${(0xc0000 + 77).toString(16).padStart(32, "0")}?${qs(window)}`,
      )
    ).body,
  });
  let before: Awaited<ReturnType<typeof answers>>;

  beforeAll(async () => {
    await loadEngine();
    // 100 flushes of logs (and a redelivery of twenty of them), 50 of metrics, 20 of spans.
    await storeFlushes("logs", logs, 100);
    await storeFlushes("logs", logs.slice(500, 520));
    await storeFlushes("metrics", metrics, 50);
    await storeFlushes("traces", spans, 20);
    before = await answers();
  }, 300_000);

  it("answers every query as before, reading one object per kind instead of 101, 50 and 20", async () => {
    expect((await folderObjects(folders.logs)).live.length).toBe(101);
    expect(before.metrics.scanned.objects).toBe(50);
    expect(sorted(before.logs.ids)).toEqual(sorted(logs.map((l) => l.record_id)));
    const now = settled();
    for (const folder of Object.values(folders)) {
      const report = await compactPartition(bucket, folder, SETTINGS, now);
      expect(report).toMatchObject({ written: 1, unsettled: true });
    }
    for (const folder of Object.values(folders)) expect((await folderObjects(folder)).live.length).toBe(1);
    const after = await answers();
    expect([before.logs.objects > 1, after.logs.objects]).toEqual([true, 1]);
    expect(after.logs.ids).toEqual(before.logs.ids);
    expect(withoutScanned(after.errors)).toEqual(withoutScanned(before.errors));
    expect(withoutScanned(after.metrics)).toEqual(withoutScanned(before.metrics));
    expect(after.metrics.scanned.objects).toBe(1);
    expect(withoutScanned(after.traces)).toEqual(withoutScanned(before.traces));
    expect(withoutScanned(after.trace)).toEqual(withoutScanned(before.trace));
    expect(after.trace.spans).toHaveLength(3);
    // The redelivered copies are gone from the store itself, not only from answers.
    expect(await storedIds(folders.logs)).toEqual(sorted(logs.map((l) => l.record_id)));
  }, 300_000);

  it("lists the compacted object as the hour's file, then deletes what it replaced after the grace period", async () => {
    const { body } = await apiGet<{ files: { key: string }[] }>(
      `/api/v1/telemetry/files?${qs({ prefix: folders.metrics })}`,
    );
    expect(body.files.map((file) => file.key)).toEqual(
      (await folderObjects(folders.metrics)).live.map((o) => o.key),
    );
    expect((await folderObjects(folders.metrics)).all.length).toBe(51);
    const report = await compactPartition(bucket, folders.metrics, SETTINGS, settled() + DELETE_AFTER_MS);
    expect(report).toMatchObject({ deleted: 50, written: 0, unsettled: false });
    expect((await folderObjects(folders.metrics)).all.length).toBe(1);
    const after = await answers();
    expect(withoutScanned(after.metrics)).toEqual(withoutScanned(before.metrics));
  }, 300_000);

  it("goes whole when retention's time comes", async () => {
    const rotation = {
      policy: "time",
      max_age_days: 30,
      max_size_gb: 10,
      check_interval: 3_600_000,
    } as const;
    const report = await applyRetention(bucket, rotation, HOUR + 31 * 86_400_000);
    expect(report.deletedObjects).toBeGreaterThanOrEqual(101 + 1 + 1 + 20 + 1);
    for (const folder of Object.values(folders)) expect((await folderObjects(folder)).all).toEqual([]);
  });
});

describe("compaction under concurrent queries and late data", () => {
  const HOUR = Date.UTC(2025, 1, 6, 14);
  const folder = partitionFolder("telemetry/logs", HOUR, "hour");
  const early = Array.from({ length: 800 }, (_, i) => log(HOUR + i * 4_000));
  const expected = new Set(early.map((l) => l.record_id));

  beforeAll(async () => {
    await loadEngine();
    await storeFlushes("logs", early, 40);
  }, 300_000);

  /** What every reader must see at any moment: each record, once (the API dedupes), from one side of a swap. */
  async function check(when: string) {
    const ids = await storedIds(folder);
    expect(new Set(ids), when).toEqual(expected);
    const { ids: answered } = await allLogs(HOUR, HOUR + 3_600_000);
    expect(sorted(answered), when).toEqual([...expected].sort());
  }

  it("every record once, before, during (at every put and delete) and after each pass, with late records arriving", async () => {
    let late = 0;
    const watched = new Proxy(bucket, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property !== "put" && property !== "delete")
          return typeof value === "function" ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          await check(`before ${String(property)} ${String(args[0])}`);
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          await check(`after ${String(property)} ${String(args[0])}`);
          // Late records (and a redelivered one) reach the hour while the pass is under way.
          if (property === "put" && late++ === 0) {
            const records = [log(HOUR + 1_000), log(HOUR + 3_599_000), { ...(early[7] as LogRecord) }];
            await storeFlushes("logs", records);
            for (const record of records) expected.add(record.record_id);
            await check("after late records");
          }
          return result;
        };
      },
    });
    await check("before compaction");
    const first = await compactPartition(watched, folder, SETTINGS, settled());
    expect(first).toMatchObject({ merged: 40, written: 1 });
    // The late flush came after the pass listed the hour: it stands beside the compacted object.
    expect((await folderObjects(folder)).live.length).toBe(2);

    // Queries running while the next pass folds the late object in.
    let passing = true;
    const pass = compactPartition(watched, folder, SETTINGS, settled()).finally(() => {
      passing = false;
    });
    const readers = (async () => {
      let reads = 0;
      while (passing || reads === 0) {
        const { ids } = await allLogs(HOUR, HOUR + 3_600_000);
        expect(sorted(ids)).toEqual([...expected].sort());
        reads++;
      }
      return reads;
    })();
    const [second, reads] = await Promise.all([pass, readers]);
    expect(second).toMatchObject({ merged: 2, written: 1 });
    expect(reads).toBeGreaterThan(0);
    expect((await folderObjects(folder)).live.length).toBe(1);

    const cleanup = await compactPartition(watched, folder, SETTINGS, settled() + DELETE_AFTER_MS);
    expect(cleanup).toMatchObject({ deleted: 40 + 1 + 1, unsettled: false });
    expect((await folderObjects(folder)).all.length).toBe(1);
    expect(await storedIds(folder)).toEqual([...expected].sort());
  }, 300_000);
});
