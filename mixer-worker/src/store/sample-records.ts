import type { JournalRecord } from "../../../shared/journal/record.ts";
import { seededRandom } from "../../../shared/random/seeded-random.ts";
import type {
  LogRecord,
  MetricRecord,
  RecordOf,
  SpanRecord,
  TelemetryKind,
} from "../../../shared/telemetry/records.ts";

/** Test and benchmark data only: records with the awkward values a writer must keep exactly. */

const at = Date.UTC(2025, 11, 21, 14, 5, 6, 789);
const uuid = (n: number) => `0190a0b0-1c2d-7e3f-8a4b-${n.toString(16).padStart(12, "0")}`;

const logs: LogRecord[] = [
  {
    record_id: uuid(1),
    ts: at,
    entity_id: uuid(100),
    entity_name: "rack-sfo-01",
    flux_id: uuid(200),
    level: "error",
    message: 'payment "declined", retry=3\nsecond line, ünïcödé ✓',
    attributes: { gear: "iso8583", nested: { codes: [5, 51] }, ok: false },
  },
  {
    record_id: uuid(2),
    ts: at + 1,
    entity_id: uuid(100),
    entity_name: "rack-sfo-01",
    flux_id: null,
    level: "debug",
    message: "",
    attributes: {},
  },
  {
    record_id: uuid(3),
    ts: 0,
    entity_id: uuid(101),
    entity_name: "rack-nyc-02",
    flux_id: null,
    level: "warn",
    message: " \\N, NULL and '' are text; tab\t NUL\u0000 emoji \u{1F600} ",
    attributes: { quote: '"', comma: ",", newline: "\r\n" },
  },
];

const metrics: MetricRecord[] = [
  {
    record_id: uuid(11),
    ts: at,
    entity_id: uuid(100),
    entity_name: "mixer-01",
    flux_id: null,
    name: "gear_latency_ms",
    type: "histogram",
    value: 0.1 + 0.2,
    labels: { gear: "router", le: "+Inf" },
  },
  {
    record_id: uuid(12),
    ts: at + 3_600_000,
    entity_id: uuid(100),
    entity_name: "mixer-01",
    flux_id: uuid(201),
    name: "fluxrig.rack.heartbeats_sent",
    type: "counter",
    value: 1e21,
    labels: {},
  },
  {
    record_id: uuid(13),
    ts: at,
    entity_id: uuid(102),
    entity_name: "rack-lon-03",
    flux_id: null,
    name: "queue_depth",
    type: "gauge",
    value: -2.5e-300,
    labels: { queue: "in" },
  },
];

const traces: SpanRecord[] = [
  {
    record_id: uuid(21),
    ts: at,
    entity_id: uuid(100),
    entity_name: "rack-sfo-01",
    flux_id: uuid(202),
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    span_id: "00f067aa0ba902b7",
    parent_span_id: null,
    span_name: "gear.route",
    duration_ms: 1.1,
    status: "ok",
    attributes: { "http.status_code": 200 },
  },
  {
    record_id: uuid(22),
    ts: at + 7,
    entity_id: uuid(100),
    entity_name: "rack-sfo-01",
    flux_id: null,
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    span_id: "53995c3f42cd8ad8",
    parent_span_id: "00f067aa0ba902b7",
    span_name: "gear.iso8583.decode",
    duration_ms: 0,
    status: "error",
    attributes: {},
  },
];

/**
 * A few records of each kind, covering NULLs, empty text, quotes, newlines, NUL, tabs, surrounding spaces,
 * non-ASCII text and extreme numbers.
 */
export const SAMPLE_RECORDS: { readonly [K in TelemetryKind]: readonly RecordOf<K>[] } = {
  logs,
  metrics,
  traces,
};

/**
 * A fixed UUID v7 whose 48-bit time prefix names `ms`, numbered `n`: a flux_id (or record id) for a known time.
 *
 * @example uuidV7At(Date.UTC(2025, 6, 3, 11), 1) // "01981053-7780-7000-8f1f-000000000001"
 */
export function uuidV7At(ms: number, n: number): string {
  const hex = ms.toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8f1f-${n.toString(16).padStart(12, "0")}`;
}

/** Journal records: one per spec folder and generic, NULL raw_msg and promoted, bytes of every value. */
export const SAMPLE_JOURNAL_RECORDS: readonly JournalRecord[] = [
  {
    record_id: uuid(31),
    ts: at,
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    flux_id: uuid(203),
    entity_id: uuid(100),
    entity_name: "rack-sfo-01",
    src_gear_id: null,
    dst_gear_id: "decode",
    msg_type: "0100",
    direction: "inbound",
    status: "ok",
    raw_msg: Uint8Array.from({ length: 256 }, (_, i) => i),
    promoted: { pan: "411111******1111", amount: 1250, merchant: 'Café "Zürich", 2nd' },
    spec: "visa-v1",
  },
  {
    record_id: uuid(32),
    ts: at + 5,
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    flux_id: uuid(203),
    entity_id: uuid(101),
    entity_name: "rack-nyc-02",
    src_gear_id: "router",
    dst_gear_id: null,
    msg_type: "0110",
    direction: "outbound",
    status: "error",
    raw_msg: null,
    promoted: null,
    spec: "visa-v1",
  },
  {
    record_id: uuid(33),
    ts: at + 3_600_000,
    trace_id: "0af7651916cd43dd8448eb211c80319c",
    flux_id: uuid(204),
    entity_id: uuid(100),
    entity_name: "rack-sfo-01",
    src_gear_id: "gen",
    dst_gear_id: "sink",
    msg_type: "reading",
    direction: "internal",
    status: "ok",
    raw_msg: new Uint8Array(0),
    promoted: {},
    spec: null,
  },
];

/**
 * `count` log records shaped like real traffic, the same on every call: random UUID v7 record and flux ids
 * (a third of flux ids NULL), 50 racks, varied messages. For benchmarks; random ids keep compression honest.
 *
 * @example const records = syntheticLogs(100_000);
 */
export function syntheticLogs(count: number, startMs = at): LogRecord[] {
  const levels = ["debug", "info", "warn", "error"] as const;
  const next = seededRandom(count);
  const hex = (digits: number) =>
    Array.from({ length: digits }, () => Math.floor(next() * 16).toString(16)).join("");
  const uuidV7 = (ms: number) =>
    `${ms
      .toString(16)
      .padStart(12, "0")
      .replace(/^(.{8})/, "$1-")}-7${hex(3)}-${"89ab"[Math.floor(next() * 4)]}${hex(3)}-${hex(12)}`;
  return Array.from({ length: count }, (_, i) => {
    const ts = startMs + i * 10 + Math.floor(next() * 10);
    return {
      record_id: uuidV7(ts),
      ts,
      entity_id: uuid(i % 50),
      entity_name: `rack-sfo-${i % 50}`,
      flux_id: i % 3 === 0 ? null : uuidV7(ts - 5),
      level: levels[Math.floor(next() * 4)] ?? "info",
      message: `payment ${hex(8)} routed to gear-${i % 9} in ${Math.floor(next() * 900)} ms, retry=${i % 5}`,
      attributes: { gear: `gear-${i % 9}`, attempt: i % 5, amount: Math.floor(next() * 100_000) / 100 },
    };
  });
}
