import { beforeAll, describe, expect, it } from "vitest";
import type { LogsAnswer } from "../../../shared/telemetry/query-results.ts";
import { LOG_RECORD_LEVELS, type LogRecord } from "../../../shared/telemetry/records.ts";
import { apiGet, loadEngine, qs, storeFlushes, testUuid } from "../../test-helpers/telemetry-api.ts";
import { mixerEnv } from "../../test-helpers/test-rack.ts";

/** 60 logs every 3 minutes from 10:30 to 13:27 UTC on 2025-06-10: four hour partitions. */
const START = Date.UTC(2025, 5, 10, 10, 30);
const WINDOW = { since: "2025-06-10T10:00:00Z", until: "2025-06-10T14:00:00Z" };
const GEARS = ["router", "hsm", "iso8583-in"];
const RACK_A = testUuid(0xa, 1);
const RACK_B = testUuid(0xa, 2);
const FLUX = testUuid(0xa, 3);

const logs: LogRecord[] = Array.from({ length: 60 }, (_, i) => ({
  record_id: testUuid(0x10, i),
  ts: START + i * 180_000,
  entity_id: i % 2 ? RACK_B : RACK_A,
  entity_name: i % 2 ? "fx-rack-b" : "fx-rack-a",
  flux_id: i % 10 === 0 ? FLUX : null,
  level: LOG_RECORD_LEVELS[i % 4] ?? "info",
  message: i % 5 === 0 ? `payment ${i} DECLINED by issuer` : `payment ${i} approved`,
  attributes: { gear_id: GEARS[i % 3], seq: i },
}));
/** Edge cases at 13:40, after the 60: a literal %, and gear_id only in a nested object. */
const extras: LogRecord[] = [
  { ...logs[0], record_id: testUuid(0x11, 1), ts: Date.UTC(2025, 5, 10, 13, 40), message: "batch 100% done" },
  {
    ...logs[0],
    flux_id: null,
    record_id: testUuid(0x11, 2),
    ts: Date.UTC(2025, 5, 10, 13, 41),
    message: "nested gear",
    attributes: { upstream: { gear_id: "router" }, gear_id: "switch-out" },
  },
] as LogRecord[];
const all = [...logs, ...extras].sort((a, b) => b.ts - a.ts);

type Answer = LogsAnswer & { status?: number };
const get = async (params: Record<string, string | number | undefined>) => {
  const { status, body } = await apiGet<Answer>(
    `/api/v1/telemetry/logs?${qs({ ...WINDOW, limit: 1000, ...params })}`,
  );
  expect(status, JSON.stringify(body)).toBe(200);
  return body;
};
const seqs = (answer: LogsAnswer) => answer.logs.map((log) => log.attributes.seq);

beforeAll(async () => {
  await loadEngine();
  // Three flushes, so partitions hold several objects; then the first five again, as a redelivery would.
  await storeFlushes("logs", [...logs, ...extras], 3);
  await storeFlushes("logs", logs.slice(0, 5));
}, 120_000);

describe("GET /api/v1/telemetry/logs", () => {
  it("returns every record of the window once, newest first, with the applied window", async () => {
    const answer = await get({});
    expect(answer.logs.map((log) => log.record_id)).toEqual(all.map((log) => log.record_id));
    expect(answer.window).toEqual({ since: "2025-06-10T10:00:00.000Z", until: "2025-06-10T14:00:00.000Z" });
    expect(answer).toMatchObject({ limit: 1000, offset: 0, next: null, truncated: false });
    expect(answer.logs[answer.logs.length - 1]).toEqual({
      ts: "2025-06-10T10:30:00.000Z",
      entity_id: RACK_A,
      entity_name: "fx-rack-a",
      flux_id: FLUX,
      level: "debug",
      message: "payment 0 DECLINED by issuer",
      attributes: { gear_id: "router", seq: 0 },
      record_id: testUuid(0x10, 0),
    });
  });

  it("takes `level` as that level and above", async () => {
    const expected = (min: number) => logs.filter((_, i) => i % 4 >= min).length + (min <= 0 ? 2 : 0);
    for (const [min, level] of LOG_RECORD_LEVELS.entries()) {
      const answer = await get({ level });
      expect(answer.logs).toHaveLength(expected(min));
      for (const log of answer.logs) expect(LOG_RECORD_LEVELS.indexOf(log.level)).toBeGreaterThanOrEqual(min);
    }
    expect((await get({ level: "error" })).logs).toHaveLength(15);
  });

  it("finds q case-insensitively within the message, taking % and _ literally", async () => {
    expect(seqs(await get({ q: "declined" }))).toEqual([55, 50, 45, 40, 35, 30, 25, 20, 15, 10, 5, 0]);
    expect((await get({ q: "DeClInEd By" })).logs).toHaveLength(12);
    expect((await get({ q: "0% d" })).logs.map((log) => log.message)).toEqual(["batch 100% done"]);
    expect((await get({ q: "payment_1" })).logs).toEqual([]);
  });

  it("filters by rack_id, entity, flux_id and gear_id (a top-level attribute only)", async () => {
    expect((await get({ rack_id: RACK_B })).logs.every((log) => log.entity_id === RACK_B)).toBe(true);
    expect((await get({ rack_id: RACK_B })).logs).toHaveLength(30);
    expect((await get({ rack_id: RACK_A.toUpperCase() })).logs).toHaveLength(32);
    expect((await get({ entity: "fx-rack-b" })).logs).toHaveLength(30);
    expect((await get({ entity: "fx-rack" })).logs).toHaveLength(0);
    // extras[0] is a copy of logs[0] with another record id: same flux id and gear.
    expect(seqs(await get({ flux_id: FLUX }))).toEqual([0, 50, 40, 30, 20, 10, 0]);
    const routed = all.filter((log) => log.attributes.gear_id === "router").map((log) => log.record_id);
    expect((await get({ gear_id: "router" })).logs.map((log) => log.record_id)).toEqual(routed);
    expect(routed).toHaveLength(21);
    expect((await get({ gear_id: "switch-out" })).logs.map((log) => log.message)).toEqual(["nested gear"]);
    expect(seqs(await get({ gear_id: "router", level: "error", entity: "fx-rack-b" }))).toEqual([
      51, 39, 27, 15, 3,
    ]);
  });

  it("keeps since inclusive and until exclusive, to the millisecond", async () => {
    const at = (i: number) => new Date(START + i * 180_000).toISOString();
    expect(seqs(await get({ since: at(10), until: at(13) }))).toEqual([12, 11, 10]);
    const justAfter = new Date(START + 10 * 180_000 + 1).toISOString();
    expect(seqs(await get({ since: justAfter, until: at(13) }))).toEqual([12, 11]);
    expect(seqs(await get({ since: "2025-06-10T11:30:00+01:00", until: "2025-06-10T10:39:00Z" }))).toEqual([
      2, 1, 0,
    ]);
  });

  it("pages by offset with no row twice and none skipped", async () => {
    const seen: string[] = [];
    for (let offset = 0; ; offset += 7) {
      const page = await get({ limit: 7, offset });
      expect(page.offset).toBe(offset);
      seen.push(...page.logs.map((log) => log.record_id));
      if (page.logs.length < 7) break;
    }
    expect(seen).toEqual(all.map((log) => log.record_id));
    // The deepest page there is: 11001 rows asked of each batch.
    expect((await get({ offset: 10_000 })).logs).toEqual([]);
  });

  it("pages by cursor with no row twice and none skipped, the window pinned by the cursor", async () => {
    const seen: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const page: LogsAnswer = await get({ limit: 9, ...(next ? { cursor: next } : {}) });
      expect(page.window.until).toBe("2025-06-10T14:00:00.000Z");
      seen.push(...page.logs.map((log) => log.record_id));
      next = page.next;
      pages++;
    } while (next);
    expect(pages).toBe(Math.ceil(all.length / 9));
    expect(seen).toEqual(all.map((log) => log.record_id));
    // With filters: the cursor continues the same filtered listing.
    const first = await get({ level: "error", limit: 4 });
    const second = await get({ level: "error", limit: 4, cursor: first.next ?? "" });
    expect([...seqs(first), ...seqs(second)]).toEqual([59, 55, 51, 47, 43, 39, 35, 31]);
  });

  it("returns a window with no data as an empty page, not an error", async () => {
    const answer = await get({ since: "2001-01-01T00:00:00Z", until: "2001-01-02T00:00:00Z" });
    expect(answer).toMatchObject({ logs: [], next: null, truncated: false, scanned: { objects: 0 } });
  });

  it("reads only the partitions the window overlaps", async () => {
    const one = await get({ since: "2025-06-10T12:00:00Z", until: "2025-06-10T13:00:00Z" });
    expect(one.logs).toHaveLength(20);
    const whole = await get({});
    expect(one.scanned.objects).toBeGreaterThan(0);
    expect(one.scanned.objects).toBeLessThan(whole.scanned.objects);
  });

  it("stops reading once the newest rows are known", async () => {
    const newest = await get({ limit: 3 });
    const everything = await get({});
    expect(newest.logs.map((log) => log.record_id)).toEqual(all.slice(0, 3).map((log) => log.record_id));
    expect(newest.scanned.objects).toBeLessThan(everything.scanned.objects);
  });

  it("understands relative times (1h = now minus one hour)", async () => {
    const now = Date.now();
    const recent = (minutesAgo: number, n: number) =>
      ({
        ...logs[0],
        record_id: testUuid(0x12, n),
        ts: now - minutesAgo * 60_000,
        entity_name: "fx-relative",
        message: `${minutesAgo} minutes ago`,
      }) as LogRecord;
    await storeFlushes("logs", [recent(10, 1), recent(90, 2), recent(200, 3)]);
    const messages = async (params: Record<string, string>) =>
      (await get({ since: undefined, until: undefined, entity: "fx-relative", ...params })).logs.map(
        (l) => l.message,
      );
    expect(await messages({ since: "1h" })).toEqual(["10 minutes ago"]);
    expect(await messages({ since: "2h" })).toEqual(["10 minutes ago", "90 minutes ago"]);
    expect(await messages({ since: "4h", until: "30m" })).toEqual(["90 minutes ago", "200 minutes ago"]);
    expect(await messages({ since: "1h30m5s", until: "1h" })).toEqual(["90 minutes ago"]);
    // Absent since: the last 24 hours.
    const defaults = await get({ since: undefined, until: undefined, entity: "fx-relative" });
    expect(defaults.logs).toHaveLength(3);
    expect(Date.parse(defaults.window.until) - Date.parse(defaults.window.since)).toBe(86_400_000);
    expect(Math.abs(Date.parse(defaults.window.until) - Date.now())).toBeLessThan(60_000);
  });

  it("skips an object that is not Parquet, naming it, and answers from the rest", async () => {
    const key = "telemetry/logs/2025/06/10/12/logs_01JXBADBADBADBADBADBADBADB.parquet";
    await mixerEnv.TELEMETRY.put(key, new Uint8Array([1, 2, 3]));
    try {
      const answer = await get({ since: "2025-06-10T12:00:00Z", until: "2025-06-10T13:00:00Z" });
      expect(answer.logs).toHaveLength(20);
      expect(answer.scanned.skipped).toEqual([{ key, reason: expect.any(String) }]);
    } finally {
      await mixerEnv.TELEMETRY.delete(key);
    }
  });
});

describe("auth on the query routes", () => {
  it("refuses no token and a wrong token with 401", async () => {
    for (const path of ["/api/v1/telemetry/logs", "/api/v1/telemetry/traces", "/api/v1/telemetry/metrics"]) {
      expect((await apiGet(path, null)).status).toBe(401);
      expect((await apiGet(path, "wrong-token")).status).toBe(401);
    }
  });
});
