import { createExecutionContext } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { MessagesAnswer } from "../../../shared/journal/query-results.ts";
import type { JournalRecord } from "../../../shared/journal/record.ts";
import type { LogsAnswer, TracesAnswer } from "../../../shared/telemetry/query-results.ts";
import {
  LOG_RECORD_LEVELS,
  type LogRecord,
  type MetricRecord,
  type SpanRecord,
} from "../../../shared/telemetry/records.ts";
import {
  type HostileRequest,
  hostileRequest,
  type KnownValues,
  toRequest,
} from "../../test-helpers/hostile-requests.ts";
import {
  API_TOKEN,
  apiGet,
  loadEngine,
  qs,
  storeFlushes,
  storeMessageFlushes,
  testUuid,
} from "../../test-helpers/telemetry-api.ts";
import { mixerEnv, testRack } from "../../test-helpers/test-rack.ts";
import worker from "../index.ts";

/** Requests the property throws at the mixer, across every route. */
const RUNS = 1_200;
const AT = Date.UTC(2025, 5, 13, 10, 30);
const WINDOW = { since: "2025-06-13T10:00:00Z", until: "2025-06-13T12:00:00Z" };
/** An object beside the telemetry tree that the files endpoint must never serve. */
const OUTSIDE_KEY = "registry/secret.txt";

const record = (i: number) => ({
  record_id: testUuid(0x40, i),
  ts: AT + i * 60_000,
  entity_id: testUuid(0x41, i % 2),
  entity_name: i % 2 ? "fx-rack-b" : "fx-rack-a",
  flux_id: null,
});
const logs: LogRecord[] = Array.from({ length: 8 }, (_, i) => ({
  ...record(i),
  level: LOG_RECORD_LEVELS[i % 4] ?? "info",
  message: i % 3 ? `payment ${i} approved` : `payment ${i} DECLINED, 100% sure`,
  attributes: { gear_id: i % 2 ? "router" : "hsm" },
}));
const spans: SpanRecord[] = Array.from({ length: 4 }, (_, i) => ({
  ...record(10 + i),
  trace_id: String(i + 1).repeat(32),
  span_id: `${i + 1}`.repeat(16),
  parent_span_id: null,
  span_name: `op-${i}`,
  duration_ms: 10 * i,
  status: i % 2 ? "error" : "ok",
  attributes: {},
}));
const metrics: MetricRecord[] = Array.from({ length: 6 }, (_, i) => ({
  ...record(20 + i),
  name: "fx.ok",
  type: "gauge",
  value: i,
  labels: { gear: i % 2 ? "router" : "hsm" },
}));

const journal: JournalRecord[] = Array.from({ length: 6 }, (_, i) => ({
  ...record(30 + i),
  flux_id: testUuid(0x42, i % 3),
  trace_id: String(i + 1).repeat(32),
  src_gear_id: i % 2 ? "router" : null,
  dst_gear_id: "hsm",
  msg_type: i % 2 ? "0110" : "0100",
  direction: i % 2 ? "internal" : "inbound",
  status: i % 3 ? "ok" : "error",
  raw_msg: Uint8Array.of(i),
  promoted: i % 2 ? { pan: "411111******1111", amount: 1250 + i } : null,
  spec: i % 2 ? "visa-v1" : null,
}));

const HEADERS: Record<HostileRequest["auth"], Record<string, string>> = {
  valid: { authorization: `Bearer ${API_TOKEN}` },
  missing: {},
  wrong: { authorization: `Bearer ${API_TOKEN}x` },
  malformed: { authorization: `Bearer ${API_TOKEN} extra` },
};

const known: KnownValues = {
  rackIds: [],
  cursors: [],
  fileKeys: [],
  fluxIds: journal.map((m) => m.flux_id),
  window: WINDOW,
};

beforeAll(async () => {
  await loadEngine();
  await storeFlushes("logs", logs, 2);
  await storeFlushes("traces", spans);
  await storeFlushes("metrics", metrics);
  await storeMessageFlushes(journal, 2);
  await mixerEnv.TELEMETRY.put(OUTSIDE_KEY, "not telemetry");
  const listed = await mixerEnv.TELEMETRY.list({ prefix: "telemetry/" });
  known.fileKeys = listed.objects.map((o) => o.key);
  for (const name of ["prop-rack-a", "prop-rack-b"]) {
    const reply = await (await testRack(name)).enroll();
    if (!reply.ok) throw new Error(reply.error);
  }
  const racks = await apiGet<{ racks: { id: string }[] }>("/api/v1/racks");
  known.rackIds = racks.body.racks.map((rack) => rack.id);
  const logsPage = await apiGet<LogsAnswer>(`/api/v1/telemetry/logs?${qs({ ...WINDOW, limit: 2 })}`);
  const tracesPage = await apiGet<TracesAnswer>(`/api/v1/telemetry/traces?${qs({ ...WINDOW, limit: 1 })}`);
  const messagesPage = await apiGet<MessagesAnswer>(`/api/v1/messages?${qs({ ...WINDOW, limit: 2 })}`);
  known.cursors = [logsPage.body.next, tracesPage.body.next, messagesPage.body.next].filter(
    (c): c is string => c !== null,
  );
  expect(known.cursors).toHaveLength(3);
}, 240_000);

/** What must hold of every answer, whatever was asked. */
async function checkAnswer(request: HostileRequest, res: Response): Promise<void> {
  const where = `${request.method} ${request.url.slice(0, 300)} (${request.auth})`;
  const text = request.method === "HEAD" ? "" : await res.text();
  const url = new URL(`http://mixer${request.url}`);
  const publicRoute = url.pathname === "/health" || url.pathname === "/api/v1/cluster-key";
  if (request.auth !== "valid" && url.pathname.startsWith("/api/") && !publicRoute) {
    expect(res.status, where).toBe(401);
  }
  // Nothing a client sends gets a 5xx; /health's 503 is its answer while the bus is down (checked below).
  if (url.pathname !== "/health") expect(res.status, where).toBeLessThan(500);
  if (request.method === "HEAD") return;
  if (url.pathname === "/health" && request.method === "GET") {
    // No NATS in this project: the bus is down, and /health says so at once rather than failing: ok within
    // the grace period after the bridge started, then degraded (503) naming the bus.
    const body = JSON.parse(text) as { status: string; failing: { part: string }[] };
    expect(
      [
        [200, "ok"],
        [503, "degraded"],
      ],
      where,
    ).toContainEqual([res.status, body.status]);
    for (const { part } of body.failing) expect(part, where).toBe("bus");
    return;
  }
  if (res.status >= 400) {
    expect(res.headers.get("content-type"), where).toBe("application/problem+json");
    const problem = JSON.parse(text) as Record<string, unknown>;
    expect(problem.status, where).toBe(res.status);
    if (res.status === 400) expect(typeof problem.parameter, where).toBe("string");
    if (typeof problem.value === "string") expect(problem.value.length, where).toBeLessThanOrEqual(260);
    return;
  }
  if (url.pathname.startsWith("/api/v1/telemetry/files")) {
    expect(text, where).not.toContain("not telemetry");
    if (url.pathname === "/api/v1/telemetry/files") {
      const { files } = JSON.parse(text) as { files: { key: string }[] };
      for (const { key } of files) expect(key, where).toMatch(/^(telemetry|messages)\//);
    }
  }
  if (url.pathname === "/api/v1/telemetry/logs") checkLogFilters(where, url, JSON.parse(text) as LogsAnswer);
  if (url.pathname === "/api/v1/messages")
    checkMessageFilters(where, url, JSON.parse(text) as MessagesAnswer);
}

/** `q` and `entity` select by value only: no quoting trick widens what comes back. */
function checkLogFilters(where: string, url: URL, answer: LogsAnswer): void {
  const q = url.searchParams.get("q");
  const entity = url.searchParams.get("entity");
  for (const log of answer.logs) {
    if (q !== null && /^[\x20-\x7e]+$/.test(q))
      expect(log.message.toLowerCase(), where).toContain(q.toLowerCase());
    if (entity !== null && /^[\x20-\x7e]+$/.test(entity)) expect(log.entity_name, where).toBe(entity);
  }
}

/** `gear_id`, `entity` and promoted filters select by value only, and raw_msg comes only when asked. */
function checkMessageFilters(where: string, url: URL, answer: MessagesAnswer): void {
  const gear = url.searchParams.get("gear_id");
  const pan = url.searchParams.get("promoted.pan");
  for (const message of answer.messages) {
    if (gear !== null) expect([message.src_gear_id, message.dst_gear_id], where).toContain(gear);
    if (pan !== null) expect(message.promoted?.pan, where).toBe(pan);
    if (url.searchParams.get("include_raw") !== "true") expect("raw_msg" in message, where).toBe(false);
  }
}

describe("hostile requests", () => {
  it(`answers ${RUNS} generated requests across every route without a 5xx`, async () => {
    const hits = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(hostileRequest(known), async (request) => {
        hits.set(request.endpoint, (hits.get(request.endpoint) ?? 0) + 1);
        // The Worker's own fetch in this isolate: what SELF.fetch reaches, without its ~30 ms per request.
        const res = await worker.fetch(
          toRequest(request, HEADERS[request.auth]),
          mixerEnv,
          createExecutionContext(),
        );
        await checkAnswer(request, res);
      }),
      { numRuns: RUNS },
    );
    // Every route got its share (21 routes, so about 57 each).
    expect(hits.size).toBe(21);
    for (const [endpoint, count] of hits) expect(count, endpoint).toBeGreaterThan(30);
  }, 120_000);
});
