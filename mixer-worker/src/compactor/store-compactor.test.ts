import { runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { newFileId, telemetryObjectKey } from "../../../shared/storage/object-keys.ts";
import type { MetricRecord } from "../../../shared/telemetry/records.ts";
import { API_TOKEN, apiGet, loadEngine, qs, testUuid } from "../../test-helpers/telemetry-api.ts";
import { mixerEnv } from "../../test-helpers/test-rack.ts";
import { writeTelemetryFile } from "../store/parquet-writer.ts";
import { WRITE_SETTLE_MS } from "../store/write-records.ts";
import { storeCompactor } from "./compactor-stub.ts";
import type { CompactionStatus, StoreCompactor } from "./store-compactor.ts";

const HOUR = Date.UTC(2025, 1, 10, 8);
const FOLDER = "telemetry/metrics/2025/02/10/08/";
const point = (i: number): MetricRecord => ({
  record_id: testUuid(0xd0, i),
  ts: HOUR + i * 60_000,
  entity_id: testUuid(0xd0, 0xfff),
  entity_name: "rack-compactor",
  flux_id: null,
  name: "fx.compactor.beats",
  type: "counter",
  value: 1,
  labels: {},
});

const post = (path: string, token = API_TOKEN) =>
  SELF.fetch(`http://mixer${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(60_000),
  });

beforeAll(async () => {
  await loadEngine();
  // Five flush objects written (as far as their ULIDs say) two minutes ago: old enough for a pass now.
  for (let i = 0; i < 5; i++) {
    const records = [point(2 * i), point(2 * i + 1)];
    const key = telemetryObjectKey("metrics", HOUR, {
      format: "parquet",
      partitionBy: "hour",
      fileId: newFileId(Date.now() - 2 * WRITE_SETTLE_MS + i),
    });
    const bytes = await writeTelemetryFile("metrics", records, { format: "parquet", compression: "zstd" });
    await mixerEnv.TELEMETRY.put(key, bytes, {
      customMetadata: { records: "2", ts_min: String(records[0]?.ts), ts_max: String(records[1]?.ts) },
    });
  }
}, 120_000);

describe("the store's compactor", () => {
  it("compacts the partitions of a window an admin queues, on its alarm", async () => {
    const queued = await post(
      `/api/v1/telemetry/compaction?${qs({ since: "2025-02-10T00:00:00Z", until: "2025-02-11T00:00:00Z" })}`,
    );
    expect(queued.status).toBe(202);
    expect(await queued.json()).toMatchObject({ partitions_added: 1, queued_partitions: 1, enabled: true });

    expect(await runDurableObjectAlarm(storeCompactor(mixerEnv))).toBe(true);
    const { body } = await apiGet<CompactionStatus>("/api/v1/telemetry/compaction");
    expect(body).toMatchObject({
      passes: 1,
      failures: 0,
      // Looked at, and queued still: the objects it replaced are deleted after the grace period.
      queued_partitions: 0,
      settling_partitions: 1,
      last_pass: { partitions: 1, merged: 5, written: 1, rows_in: 10, rows_out: 10, deleted: 0 },
    });
    expect(body.last_pass?.memory?.peak).toBeGreaterThan(0);
    expect(body.totals).toMatchObject({ merged: 5, written: 1, rows_out: 10 });
    const { body: files } = await apiGet<{ files: { key: string }[] }>(
      `/api/v1/telemetry/files?${qs({ prefix: FOLDER })}`,
    );
    expect(files.files).toHaveLength(1);
    expect(files.files[0]?.key).toMatch(/metrics_[0-9A-Z]{26}-[0-9A-Z]{26}\.[0-9A-Z]{26}\.1of1\.parquet$/);
    const { body: health } = await apiGet<{ compaction: CompactionStatus }>("/health");
    expect(health.compaction).toMatchObject({ passes: 1, last_pass: { merged: 5 } });
  }, 120_000);

  it("takes the partitions the bridge wrote to, and refuses narrower tokens a queueing", async () => {
    await storeCompactor(mixerEnv).noteWritten(["telemetry/logs/2025/02/10/09/", FOLDER]);
    const { body } = await apiGet<CompactionStatus>("/api/v1/telemetry/compaction");
    // The metrics partition, written to again, is looked at anew; the logs one is new.
    expect([body.queued_partitions, body.settling_partitions]).toEqual([2, 0]);
    const created = await SELF.fetch("http://mixer/api/v1/tokens", {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "compaction-reader", scope: "read" }),
    });
    const { token } = (await created.json()) as { token: string };
    expect((await post("/api/v1/telemetry/compaction", token)).status).toBe(403);
  });

  it("keeps a partition queued for a new look when the bridge writes to it while a pass looks at it", async () => {
    const window = { since: Date.UTC(2025, 1, 10), until: Date.UTC(2025, 1, 11) };
    const alarm = await runInDurableObject(
      storeCompactor(mixerEnv),
      async (compactor: StoreCompactor, state) => {
        await compactor.queueWindow(window);
        // As the runtime does when the alarm rings. The pass lists its queue first; the note lands while it
        // merges or lists the partition.
        await state.storage.deleteAlarm();
        const pass = compactor.alarm();
        await compactor.noteWritten([FOLDER]);
        await pass;
        return state.storage.getAlarm();
      },
    );
    // The next look within a check interval (1 minute here), not at once.
    expect(alarm).toBeGreaterThan(Date.now() + 30_000);
    const { body } = await apiGet<CompactionStatus>("/api/v1/telemetry/compaction");
    // Looked at, yet not taken as settled: the write may have come after the pass listed the partition.
    expect(body).toMatchObject({ passes: 2, queued_partitions: 2, settling_partitions: 0 });
  });
});
