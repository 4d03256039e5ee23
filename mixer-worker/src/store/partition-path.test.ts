import { describe, expect, it } from "vitest";
import { groupByPartition, partitionStart, telemetryFileId, telemetryObjectKey } from "./partition-path.ts";

const parquet = { format: "parquet" } as const;
const fileId = "01KD0KBFR0ABCDEFGHJKMNPQRS";

describe("telemetryObjectKey", () => {
  it("lays out hour partitions as the reference does, in UTC", () => {
    const key = telemetryObjectKey("logs", Date.UTC(2025, 11, 21, 14, 59, 59, 999), {
      ...parquet,
      partitionBy: "hour",
      fileId,
    });
    expect(key).toBe(`telemetry/logs/2025/12/21/14/logs_${fileId}.parquet`);
  });

  it("leaves the hour out of day partitions", () => {
    const key = telemetryObjectKey("traces", Date.UTC(2025, 0, 2, 23, 30), {
      ...parquet,
      partitionBy: "day",
      fileId,
    });
    expect(key).toBe(`telemetry/traces/2025/01/02/traces_${fileId}.parquet`);
  });

  it("names NDJSON files .ndjson", () => {
    const key = telemetryObjectKey("metrics", Date.UTC(2026, 5, 1, 7), {
      format: "json",
      partitionBy: "hour",
      fileId,
    });
    expect(key).toBe(`telemetry/metrics/2026/06/01/07/metrics_${fileId}.ndjson`);
  });

  it("gives every call a new file name", () => {
    const at = Date.UTC(2025, 11, 21, 14);
    const keys = new Set(
      Array.from({ length: 1000 }, () => telemetryObjectKey("logs", at, { ...parquet, partitionBy: "hour" })),
    );
    expect(keys.size).toBe(1000);
    for (const key of keys)
      expect(key).toMatch(/^telemetry\/logs\/2025\/12\/21\/14\/logs_[0-9A-HJKMNP-TV-Z]{26}\.parquet$/);
  });
});

describe("partitionStart and groupByPartition", () => {
  const hour = Date.UTC(2025, 11, 31, 23);

  it("cuts at UTC hour and day boundaries, the last millisecond staying behind", () => {
    expect(partitionStart(hour + 3_599_999, "hour")).toBe(hour);
    expect(partitionStart(hour + 3_600_000, "hour")).toBe(Date.UTC(2026, 0, 1, 0));
    expect(partitionStart(hour + 3_599_999, "day")).toBe(Date.UTC(2025, 11, 31));
    expect(partitionStart(hour + 3_600_000, "day")).toBe(Date.UTC(2026, 0, 1));
  });

  it("groups records by their own timestamp, keeping their order", () => {
    const records = [hour + 10, hour + 3_600_000, hour + 5, hour - 1].map((ts, i) => ({ ts, i }));
    expect([...groupByPartition(records, "hour")]).toEqual([
      [hour, [records[0], records[2]]],
      [hour + 3_600_000, [records[1]]],
      [hour - 3_600_000, [records[3]]],
    ]);
    expect([...groupByPartition(records, "day")]).toEqual([
      [Date.UTC(2025, 11, 31), [records[0], records[2], records[3]]],
      [Date.UTC(2026, 0, 1), [records[1]]],
    ]);
  });
});

describe("telemetryFileId", () => {
  it("is a ULID: 48 bits of time then 80 random bits, in Crockford base 32", () => {
    expect(telemetryFileId(0, new Uint8Array(10))).toBe("0".repeat(26));
    expect(telemetryFileId(2 ** 48 - 1, new Uint8Array(10).fill(255))).toBe("7".padEnd(26, "Z"));
    expect(telemetryFileId(1_766_325_600_000, new Uint8Array(10))).toBe("01KD0KBFR0".padEnd(26, "0"));
  });

  it("sorts by time", () => {
    const ids = [5, 1_000, 1_766_325_600_000, 1_766_325_600_001].map((ms) => telemetryFileId(ms));
    expect([...ids].sort()).toEqual(ids);
  });
});
