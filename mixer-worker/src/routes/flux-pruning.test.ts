import { beforeAll, describe, expect, it } from "vitest";
import type { FluxAnswer, MessagesAnswer } from "../../../shared/journal/query-results.ts";
import type { JournalRecord } from "../../../shared/journal/record.ts";
import type { LogsAnswer, TracesAnswer } from "../../../shared/telemetry/query-results.ts";
import type { LogRecord, SpanRecord } from "../../../shared/telemetry/records.ts";
import {
  apiGet,
  loadEngine,
  qs,
  storeFlushes,
  storeMessageFlushes,
  testUuid,
} from "../../test-helpers/telemetry-api.ts";
import { mixerEnv } from "../../test-helpers/test-rack.ts";
import { uuidV7At } from "../store/sample-records.ts";

/**
 * Eight flushes of one hour, each of ten fluxes started a second apart: every object holds its own range of
 * flux ids, as a bridge's flushes do. A lookup by flux id must read the one object that holds it.
 */
const T = Date.UTC(2025, 6, 5, 9, 0);
const FLUSHES = 8;
const PER_FLUSH = 10;
const flux = (i: number) => uuidV7At(T + i * 1_000, i);
const WINDOW = { since: "2025-07-05T08:00:00Z", until: "2025-07-05T12:00:00Z" };
const ENTITY = { entity_id: testUuid(0x61, 1), entity_name: "rack-sfo-01" };

let n = 0;
const message = (i: number, over: Partial<JournalRecord> = {}): JournalRecord => ({
  record_id: testUuid(0x62, ++n),
  ts: T + i * 1_000 + 5,
  trace_id: (i % 16).toString(16).repeat(32),
  flux_id: flux(i),
  ...ENTITY,
  src_gear_id: "decode",
  dst_gear_id: "router",
  msg_type: "0100",
  direction: "internal",
  status: "ok",
  raw_msg: null,
  promoted: null,
  spec: null,
  ...over,
});
const log = (i: number, flux_id: string | null): LogRecord => ({
  record_id: testUuid(0x63, ++n),
  ts: T + i * 1_000 + 7,
  ...ENTITY,
  flux_id,
  level: "info",
  message: `hop of ${i}`,
  attributes: {},
});
const span = (i: number): SpanRecord => ({
  record_id: testUuid(0x64, ++n),
  ts: T + i * 1_000 + 6,
  ...ENTITY,
  flux_id: flux(i),
  trace_id: (i + 0x100).toString(16).padStart(32, "0"),
  span_id: (i + 1).toString(16).padStart(16, "0"),
  parent_span_id: null,
  span_name: "decode",
  duration_ms: 3,
  status: "ok",
  attributes: {},
});

const fluxes = Array.from({ length: FLUSHES * PER_FLUSH }, (_, i) => i);
/** In the fifth flush. */
const WANTED = 43;
/** Its object is stored again without the flux range, as objects written before it was kept are. */
const LEGACY = 3 * 3_600_000;

const get = async <T>(path: string, params: Record<string, string>) => {
  const { status, body } = await apiGet<T>(`${path}?${qs({ ...WINDOW, ...params })}`);
  expect(status, JSON.stringify(body)).toBe(200);
  return body;
};

beforeAll(async () => {
  await loadEngine();
  await storeMessageFlushes(
    fluxes.map((i) => message(i)),
    FLUSHES,
  );
  await storeFlushes(
    "logs",
    fluxes.map((i) => log(i, flux(i))),
    FLUSHES,
  );
  // Logs of no flux at all, as most are: their object says so and is never read by a flux lookup.
  await storeFlushes(
    "logs",
    fluxes.map((i) => log(i, null)),
  );
  await storeFlushes(
    "traces",
    fluxes.map((i) => span(i)),
    FLUSHES,
  );
  // One message of the wanted flux three hours later, in an object written without flux metadata.
  await storeMessageFlushes([message(WANTED, { ts: T + LEGACY })]);
  const listed = await mixerEnv.TELEMETRY.list({
    prefix: "messages/generic/2025/07/05/12/",
    include: ["customMetadata"],
  });
  const [legacy] = listed.objects;
  if (!legacy) throw new Error("the legacy object was not stored");
  const body = await (await mixerEnv.TELEMETRY.get(legacy.key))?.arrayBuffer();
  const { flux_min: _, flux_max: __, ...older } = legacy.customMetadata ?? {};
  await mixerEnv.TELEMETRY.put(legacy.key, body ?? new ArrayBuffer(0), { customMetadata: older });
}, 120_000);

describe("a lookup by flux id reads only the objects that may hold it", () => {
  it("GET /messages?flux_id= over the window reads one of eight objects and finds its message", async () => {
    const answer = await get<MessagesAnswer>("/api/v1/messages", { flux_id: flux(WANTED) });
    expect(answer.messages.map((m) => m.ts)).toEqual([new Date(T + WANTED * 1_000 + 5).toISOString()]);
    expect(answer.scanned.objects).toBe(1);
    // Upper case names the same flux: the range compares canonical text.
    const upper = await get<MessagesAnswer>("/api/v1/messages", { flux_id: flux(WANTED).toUpperCase() });
    expect(upper.messages).toHaveLength(1);
    expect(upper.scanned.objects).toBe(1);
  });

  it("a flux id in no object's range reads nothing", async () => {
    const absent = uuidV7At(T + 30 * 60_000, 7);
    const answer = await get<MessagesAnswer>("/api/v1/messages", { flux_id: absent });
    expect(answer.messages).toEqual([]);
    expect(answer.scanned.objects).toBe(0);
  });

  it("logs and traces filtered by flux id read one object each, never the logs of no flux", async () => {
    const logs = await get<LogsAnswer>("/api/v1/telemetry/logs", { flux_id: flux(WANTED) });
    expect(logs.logs.map((l) => l.message)).toEqual([`hop of ${WANTED}`]);
    expect(logs.scanned.objects).toBe(1);
    const traces = await get<TracesAnswer>("/api/v1/telemetry/traces", { flux_id: flux(WANTED) });
    expect(traces.traces).toHaveLength(1);
    expect(traces.scanned.objects).toBe(1);
  });

  it("GET /flux/{id} reads the flux's message and log objects, and its spans by trace id", async () => {
    const answer = await get<FluxAnswer>(`/api/v1/flux/${flux(WANTED)}`, {});
    expect(answer.messages).toHaveLength(1);
    expect(answer.logs).toHaveLength(1);
    expect(answer.spans).toHaveLength(1);
    // One message object, one log object; spans are also looked up by the messages' trace ids, which no
    // range covers, so all eight span objects are read.
    expect(answer.scanned.objects).toBe(1 + 1 + FLUSHES);
  });

  it("an object written without a flux range is still read, and its message found", async () => {
    const wide = { since: "2025-07-05T08:00:00Z", until: "2025-07-05T14:00:00Z" };
    const { status, body } = await apiGet<MessagesAnswer>(
      `/api/v1/messages?${qs({ ...wide, flux_id: flux(WANTED) })}`,
    );
    expect(status).toBe(200);
    expect(body.messages.map((m) => m.ts)).toEqual([
      new Date(T + LEGACY).toISOString(),
      new Date(T + WANTED * 1_000 + 5).toISOString(),
    ]);
    expect(body.scanned.objects).toBe(2);
  });
});
