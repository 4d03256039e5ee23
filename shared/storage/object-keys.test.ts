import { describe, expect, it } from "vitest";
import {
  compactedObjectKey,
  deadLetterObjectKey,
  fileIdTime,
  groupByPartition,
  messagesObjectKey,
  newFileId,
  parseStoredKey,
  partitionSpan,
  partitionStart,
  STORED_AS_PATTERN,
  telemetryObjectKey,
} from "./object-keys.ts";

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

describe("newFileId", () => {
  it("is a ULID: 48 bits of time then 80 random bits, in Crockford base 32", () => {
    expect(newFileId(0, new Uint8Array(10))).toBe("0".repeat(26));
    expect(newFileId(2 ** 48 - 1, new Uint8Array(10).fill(255))).toBe("7".padEnd(26, "Z"));
    expect(newFileId(1_766_325_600_000, new Uint8Array(10))).toBe("01KD0KBFR0".padEnd(26, "0"));
  });

  it("sorts by time", () => {
    const ids = [5, 1_000, 1_766_325_600_000, 1_766_325_600_001].map((ms) => newFileId(ms));
    expect([...ids].sort()).toEqual(ids);
  });
});

describe("fileIdTime", () => {
  it("reads back the time a ULID was made at", () => {
    for (const ms of [0, 1_000, 1_766_325_600_000, 2 ** 48 - 1]) expect(fileIdTime(newFileId(ms))).toBe(ms);
  });
});

describe("parseStoredKey", () => {
  const hour = Date.UTC(2025, 11, 21, 14);
  const span = { start: hour, end: hour + 3_600_000 };
  const [first, last, pass] = [newFileId(hour), newFileId(hour + 1), newFileId(hour + 2)];

  it("reads back what the builders write: flush objects of telemetry and of messages", () => {
    const key = telemetryObjectKey("logs", hour, { ...parquet, partitionBy: "hour", fileId });
    expect(parseStoredKey(key)).toEqual({
      key,
      kind: "flush",
      folder: "telemetry/logs/2025/12/21/14/",
      root: "telemetry/logs",
      span,
      stem: "logs",
      id: fileId,
      format: "parquet",
    });
    const spec = messagesObjectKey("acme_card-v2", hour, { format: "json", partitionBy: "day", fileId });
    expect(parseStoredKey(spec)).toMatchObject({
      kind: "flush",
      folder: "messages/fluxSpec/acme_card-v2/2025/12/21/",
      root: "messages/fluxSpec/acme_card-v2",
      span: { start: Date.UTC(2025, 11, 21), end: Date.UTC(2025, 11, 22) },
      stem: "acme_card",
      format: "json",
    });
  });

  it("reads back compacted parts, in the folder of their sources", () => {
    const key = compactedObjectKey("messages/generic/2025/12/21/14/", "fluxmsg", {
      first,
      last,
      pass,
      part: 2,
      parts: 3,
    });
    expect(key).toBe(`messages/generic/2025/12/21/14/fluxmsg_${first}-${last}.${pass}.2of3.parquet`);
    expect(parseStoredKey(key)).toEqual({
      key,
      kind: "compacted",
      folder: "messages/generic/2025/12/21/14/",
      root: "messages/generic",
      span,
      stem: "fluxmsg",
      first,
      last,
      pass,
      part: 2,
      parts: 3,
    });
  });

  it("calls other names in a partition other, and keys outside the layout nothing", () => {
    expect(parseStoredKey("telemetry/logs/2025/12/21/14/logs_001.parquet")?.kind).toBe("other");
    expect(
      parseStoredKey(`telemetry/logs/2025/12/21/14/logs_${last}-${first}.${pass}.1of1.parquet`)?.kind,
    ).toBe("other");
    expect(
      parseStoredKey(`telemetry/logs/2025/12/21/14/logs_${first}-${last}.${pass}.3of2.parquet`)?.kind,
    ).toBe("other");
    expect(parseStoredKey("telemetry/README")).toBeUndefined();
    expect(parseStoredKey("deadletter/2025/12/21/x.cbor")).toBeUndefined();
    expect(partitionSpan("telemetry/metrics/2025/12/21/")).toEqual({
      start: Date.UTC(2025, 11, 21),
      end: Date.UTC(2025, 11, 22),
    });
  });

  it("names the write a key's rows were first stored by: the flush, or a compacted part's first source", () => {
    const storedAs = (key: string) => new RegExp(STORED_AS_PATTERN).exec(key)?.[1];
    expect(storedAs(telemetryObjectKey("logs", hour, { ...parquet, partitionBy: "hour", fileId }))).toBe(
      fileId,
    );
    expect(
      storedAs(
        compactedObjectKey("telemetry/logs/2025/12/21/14/", "logs", { first, last, pass, part: 1, parts: 1 }),
      ),
    ).toBe(first);
  });
});

describe("deadLetterObjectKey", () => {
  it("files a dead letter under the day it was refused", () => {
    expect(deadLetterObjectKey(Date.UTC(2025, 11, 21, 14), fileId)).toBe(
      `deadletter/2025/12/21/${fileId}.cbor`,
    );
  });
});
