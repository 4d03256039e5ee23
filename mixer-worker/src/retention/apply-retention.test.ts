import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { MixerEnv } from "../env.ts";
import { applyRetention } from "./apply-retention.ts";

const bucket = (env as unknown as MixerEnv).TELEMETRY;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 27, 12, 30);

function hourKey(kind: string, hoursAgo: number): string {
  const d = new Date(NOW - hoursAgo * HOUR);
  const p = (n: number) => String(n).padStart(2, "0");
  return `telemetry/${kind}/${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${p(d.getUTCHours())}/${kind}_X${hoursAgo}.parquet`;
}

async function keys(): Promise<string[]> {
  return (await bucket.list()).objects.map((o) => o.key).sort();
}

const rotation = (policy: "time" | "size" | "both", max_age_days: number, max_size_gb: number) => ({
  policy,
  max_age_days,
  max_size_gb,
  check_interval: HOUR,
});

describe("retention over back-dated partitions in R2", () => {
  beforeEach(async () => {
    for (const k of await keys()) await bucket.delete(k);
    // 1 KB objects: 1 h, 2 days, 40 days and 400 days old; a day partition 45 days old; and a key outside the layout.
    for (const [kind, age] of [
      ["logs", 1],
      ["logs", 48],
      ["metrics", 40 * 24],
      ["traces", 400 * 24],
    ] as const) {
      await bucket.put(hourKey(kind, age), new Uint8Array(1_000));
    }
    await bucket.put("telemetry/logs/2026/10/13/logs_day.parquet", new Uint8Array(1_000));
    await bucket.put("telemetry/README", "not a partition");
  });

  it("time: deletes partitions that ended more than max_age_days ago, and nothing else", async () => {
    const report = await applyRetention(bucket, rotation("time", 30, 10), NOW);
    expect(report).toMatchObject({ policy: "time", deletedObjects: 3, deletedBytes: 3_000, keptObjects: 2 });
    expect(await keys()).toEqual([hourKey("logs", 48), hourKey("logs", 1), "telemetry/README"].sort());
  });

  it("size: deletes the oldest partitions until the total is under max_size_gb", async () => {
    // 2.5 KB allowed of 5 KB: the three oldest go.
    const report = await applyRetention(bucket, rotation("size", 3650, 2.5e-6), NOW);
    expect(report.deletedObjects).toBe(3);
    expect(await keys()).toEqual([hourKey("logs", 48), hourKey("logs", 1), "telemetry/README"].sort());
  });

  it("both: the time rule first, then the size rule on what is left", async () => {
    const report = await applyRetention(bucket, rotation("both", 30, 1.5e-6), NOW);
    expect(report.deletedObjects).toBe(4);
    expect(await keys()).toEqual([hourKey("logs", 1), "telemetry/README"].sort());
  });

  it("keeps everything within the limits", async () => {
    const report = await applyRetention(bucket, rotation("both", 3650, 10), NOW);
    expect(report.deletedObjects).toBe(0);
    expect((await keys()).length).toBe(6);
  });
});
