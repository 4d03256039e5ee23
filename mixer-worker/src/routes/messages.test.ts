import { beforeAll, describe, expect, it } from "vitest";
import type { MessagesAnswer } from "../../../shared/journal/query-results.ts";
import { JOURNAL_DIRECTIONS, JOURNAL_STATUSES, type JournalRecord } from "../../../shared/journal/record.ts";
import { apiGet, loadEngine, qs, storeMessageFlushes, testUuid } from "../../test-helpers/telemetry-api.ts";

/** Messages on 2025-07-02 from 11:00 to 13:00 UTC, in three folders: visa-v1, mc-v2 and generic. */
const BASE = Date.UTC(2025, 6, 2, 11, 30);
const WINDOW = { since: "2025-07-02T10:00:00Z", until: "2025-07-02T14:00:00Z" };
const GEARS = ["iso-in", "decode", "router", "hsm", "switch-out"];
const SPECS = ["visa-v1", "mc-v2", null] as const;
const CURRENCIES = ["EUR", "USD", "CHF"];

const message = (i: number): JournalRecord => {
  const spec = SPECS[i % 3] ?? null;
  return {
    record_id: testUuid(0x3a, i),
    // Every 7 minutes, with two pairs sharing a time (order then falls to the record id).
    ts: BASE + Math.floor(i / 2) * 7 * 60_000 + (i % 2) * 1_000 * (i % 4 === 1 ? 0 : 1),
    trace_id: (i % 9).toString(16).repeat(32),
    flux_id: testUuid(0x3b, i % 5),
    entity_id: testUuid(0x3c, i % 2),
    entity_name: i % 2 ? "rack-nyc-02" : "rack-sfo-01",
    src_gear_id: i % 5 === 0 ? null : (GEARS[(i + 4) % 5] ?? null),
    dst_gear_id: i % 5 === 4 ? null : (GEARS[i % 5] ?? null),
    msg_type: i % 2 ? "0110" : "0100",
    direction: JOURNAL_DIRECTIONS[i % 3] ?? "internal",
    status: i % 4 === 3 ? "error" : "ok",
    raw_msg: i % 6 === 5 ? null : Uint8Array.from({ length: 3 + (i % 4) }, (_, j) => (i * 31 + j * 7) % 256),
    promoted:
      spec === null
        ? null
        : {
            pan: `411111******${String(1000 + (i % 4)).slice(-4)}`,
            amount: i % 3 === 0 ? 1250 : 99 + i,
            currency: CURRENCIES[i % 3],
            approved: i % 4 !== 3,
            memo: i === 4 ? 'says "hi", {ok}' : `m${i}`,
            nested: { amount: 1250 },
          },
    spec,
  };
};
const records = Array.from({ length: 24 }, (_, i) => message(i));

const newestFirst = (list: readonly JournalRecord[]) =>
  [...list]
    .sort((a, b) => b.ts - a.ts || (a.record_id < b.record_id ? 1 : -1))
    .map((record) => record.record_id);

const list = async (params: Record<string, string | number | undefined>) => {
  const { status, body } = await apiGet<MessagesAnswer>(`/api/v1/messages?${qs({ ...WINDOW, ...params })}`);
  expect(status, JSON.stringify(body)).toBe(200);
  return body;
};
const ids = async (params: Record<string, string | number | undefined>) =>
  (await list({ limit: 1_000, ...params })).messages.map((m) => m.record_id);

beforeAll(async () => {
  await loadEngine();
  // Three flushes, and four records stored again in a fourth (a redelivery): dedupe by record id.
  await storeMessageFlushes(records, 3);
  await storeMessageFlushes([records[0], records[7], records[13], records[22]] as JournalRecord[]);
}, 120_000);

describe("GET /api/v1/messages", () => {
  it("lists every folder's messages newest first, once each, with the stored columns", async () => {
    expect(await ids({})).toEqual(newestFirst(records));
    const { messages, next, truncated } = await list({ limit: 1, since: "2025-07-02T11:00:00Z" });
    const first = [...records].sort((a, b) => b.ts - a.ts || (a.record_id < b.record_id ? 1 : -1))[0];
    expect(truncated).toBe(false);
    expect(next).not.toBeNull();
    expect(messages).toEqual([
      {
        ts: new Date(first?.ts ?? 0).toISOString(),
        trace_id: first?.trace_id,
        flux_id: first?.flux_id,
        entity_id: first?.entity_id,
        entity_name: first?.entity_name,
        src_gear_id: first?.src_gear_id,
        dst_gear_id: first?.dst_gear_id,
        msg_type: first?.msg_type,
        direction: first?.direction,
        status: first?.status,
        promoted: first?.promoted,
        record_id: first?.record_id,
        spec: first?.spec,
      },
    ]);
  });

  it("returns exactly the matching messages for each filter", async () => {
    const cases: [Record<string, string>, (r: JournalRecord) => boolean][] = [
      [{ flux_id: testUuid(0x3b, 2).toUpperCase() }, (r) => r.flux_id === testUuid(0x3b, 2)],
      [{ spec: "visa-v1" }, (r) => r.spec === "visa-v1"],
      [{ spec: "mc-v2" }, (r) => r.spec === "mc-v2"],
      [{ spec: "no-such-spec" }, () => false],
      [{ msg_type: "0110" }, (r) => r.msg_type === "0110"],
      ...JOURNAL_STATUSES.map((s): [Record<string, string>, (r: JournalRecord) => boolean] => [
        { status: s },
        (r) => r.status === s,
      ]),
      ...JOURNAL_DIRECTIONS.map((d): [Record<string, string>, (r: JournalRecord) => boolean] => [
        { direction: d },
        (r) => r.direction === d,
      ]),
      [{ entity: "rack-nyc-02" }, (r) => r.entity_name === "rack-nyc-02"],
      [{ gear_id: "router" }, (r) => r.src_gear_id === "router" || r.dst_gear_id === "router"],
      [{ gear_id: "iso-in" }, (r) => r.src_gear_id === "iso-in" || r.dst_gear_id === "iso-in"],
      [
        { status: "error", entity: "rack-nyc-02", spec: "visa-v1" },
        (r) => r.status === "error" && r.entity_name === "rack-nyc-02" && r.spec === "visa-v1",
      ],
    ];
    for (const [params, match] of cases) {
      expect(await ids(params), JSON.stringify(params)).toEqual(newestFirst(records.filter(match)));
    }
  });

  it("filters on promoted fields by the text of their JSON value, exactly", async () => {
    const field = (r: JournalRecord, name: string) => r.promoted?.[name];
    const cases: [Record<string, string>, (r: JournalRecord) => boolean][] = [
      [{ "promoted.amount": "1250" }, (r) => field(r, "amount") === 1250],
      [{ "promoted.amount": "125" }, () => false],
      [{ "promoted.currency": "USD" }, (r) => field(r, "currency") === "USD"],
      [{ "promoted.approved": "false" }, (r) => field(r, "approved") === false],
      [{ "promoted.pan": "411111******1003" }, (r) => field(r, "pan") === "411111******1003"],
      [{ "promoted.memo": 'says "hi", {ok}' }, (r) => field(r, "memo") === 'says "hi", {ok}'],
      [{ "promoted.missing": "x" }, () => false],
      [
        { "promoted.currency": "EUR", "promoted.approved": "true", spec: "visa-v1" },
        (r) => field(r, "currency") === "EUR" && field(r, "approved") === true && r.spec === "visa-v1",
      ],
    ];
    for (const [params, match] of cases) {
      expect(await ids(params), JSON.stringify(params)).toEqual(newestFirst(records.filter(match)));
    }
  });

  it("returns raw_msg as base64 only with include_raw=true", async () => {
    const without = await list({ limit: 1_000 });
    expect(without.messages.every((m) => !("raw_msg" in m))).toBe(true);
    const withRaw = await list({ limit: 1_000, include_raw: "true" });
    const byId = new Map(records.map((r) => [r.record_id, r]));
    for (const m of withRaw.messages) {
      const raw = byId.get(m.record_id)?.raw_msg;
      expect(m.raw_msg, m.record_id).toBe(raw ? btoa(String.fromCharCode(...raw)) : null);
    }
  });

  it("pages by cursor and by offset through the same order, without gaps or repeats", async () => {
    const params = { "promoted.approved": "true" };
    const all = await ids(params);
    expect(all.length).toBeGreaterThan(5);
    const byCursor: string[] = [];
    let next: string | null = null;
    do {
      const page: MessagesAnswer = await list({ ...params, limit: 4, cursor: next ?? undefined });
      byCursor.push(...page.messages.map((m) => m.record_id));
      next = page.next;
    } while (next);
    expect(byCursor).toEqual(all);
    expect(await ids({ ...params, limit: 3, offset: 2 })).toEqual(all.slice(2, 5));
    // A cursor is bound to its filters, promoted ones included.
    const first = await list({ ...params, limit: 2 });
    const other = await apiGet(
      `/api/v1/messages?${qs({ ...WINDOW, "promoted.approved": "false", cursor: first.next ?? "" })}`,
    );
    expect(other.status).toBe(400);
    expect(other.body.parameter).toBe("cursor");
  });

  it("refuses bad input with a 400 problem naming the parameter", async () => {
    const bad: [string, string][] = [
      ["promoted_pan=1", "promoted_pan"],
      ["promoted.=1", "promoted."],
      ["promoted.a%20b=1", "promoted.a b"],
      [`promoted.${"f".repeat(65)}=1`, `promoted.${"f".repeat(65)}`],
      ["promoted.pan=", "promoted.pan"],
      ["promoted.pan=1&promoted.pan=2", "promoted.pan"],
      [Array.from({ length: 9 }, (_, i) => `promoted.f${i}=1`).join("&"), "promoted.f8"],
      ["status=failed", "status"],
      ["direction=sideways", "direction"],
      ["spec=visa.v1", "spec"],
      ["include_raw=yes", "include_raw"],
      ["flux_id=nope", "flux_id"],
      ["limit=0", "limit"],
      ["gear_id=", "gear_id"],
      ["since=yesterday", "since"],
      ["cursor=abc", "cursor"],
    ];
    for (const [query, parameter] of bad) {
      const { status, type, body } = await apiGet<{ parameter: string; detail: string }>(
        `/api/v1/messages?${query}`,
      );
      expect([status, type, body.parameter], query).toEqual([400, "application/problem+json", parameter]);
    }
    const unknown = await apiGet<{ allowed: string }>("/api/v1/messages?msgtype=0100");
    expect(unknown.body.allowed).toContain("promoted.<field>");
  });
});
