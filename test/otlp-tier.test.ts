import { readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, it, vi } from "vitest";
import { codecGear } from "../rack-agent/src/gears/builtin/codec.ts";
import { journalGear } from "../rack-agent/src/gears/builtin/journal.ts";
import { sampleMessage, startGear } from "../rack-agent/src/gears/gear-harness.ts";
import { buildJournalEntry } from "../rack-agent/src/journal/journal-record.ts";
import { maskPan, validateSpec } from "../shared/spec/index.ts";
import { NATIVE_MESSAGE_COLUMNS, nativeQuery, sqlString } from "./helpers/native-duckdb.ts";
import { type OtlpReceiver, type OtlpSignal, startOtlpReceiver } from "./helpers/otlp-receiver.ts";
import { startTelemetryRig } from "./helpers/rack-telemetry.ts";

/**
 * The OTLP tier (`observability.tier = "otlp"`): the rack's traces, logs and metrics reach a real OTLP receiver
 * that decodes them with the official protobuf definitions, over gRPC and over HTTP; what the receiver could not
 * take waits in the rack's spool and arrives when it is back; `[observability.otlp.messages]` keeps the
 * journal's fluxMsgs as Parquet that native DuckDB opens.
 */

const hex = (bytes: Buffer) => Buffer.from(bytes).toString("hex");
/** A decoded KeyValue list as a plain object: each AnyValue's set field (`value` names it; int64s are strings). */
// biome-ignore lint/suspicious/noExplicitAny: decoded protobuf
const attrs = (list: any[]) => Object.fromEntries(list.map(({ key, value }) => [key, value[value.value]]));

/** Journal entries of the sample visa-v1 frames through the codec and a journal gear (masked as the journal masks), and their clear PANs. */
async function visaJournalEntries() {
  const result = validateSpec(readFileSync("examples/specs/visa-v1.yaml", "utf8"));
  if (!result.ok) throw new Error("examples/specs/visa-v1.yaml does not validate");
  const specs = { "visa-v1": result.spec, "visa-v1:1.0.0": result.spec };
  const frames = readFileSync("examples/samples/visa-v1-auth.hex", "utf8")
    .split("\n")
    .filter((line) => /^[0-9a-f]+$/.test(line))
    .map((line) => new Uint8Array(Buffer.from(line, "hex")));
  const codec = await startGear(codecGear, { spec: "visa-v1" }, { specs });
  const journal = await startGear(journalGear, { direction: "inbound" }, { specs });
  for (const raw of frames) await codec.send("in", sampleMessage({ raw }));
  for (const { msg } of codec.emitted) await journal.send("in", msg);
  const pans = codec.emitted
    .map(({ msg }) => (msg.data as { card?: { pan?: string } }).card?.pan ?? "")
    .filter((pan) => /^\d{16}$/.test(pan));
  await codec.stop();
  await journal.stop();
  return { entries: journal.telemetry.journaled, pans };
}

/** The decoded export requests of one signal. */
// biome-ignore lint/suspicious/noExplicitAny: decoded protobuf
function ofSignal(receiver: OtlpReceiver, signal: OtlpSignal): any[] {
  return receiver.received.filter((r) => r.signal === signal).map((r) => r.body);
}

async function otlpRig(protocol: "grpc" | "http", receiver: OtlpReceiver, env: Record<string, string> = {}) {
  return startTelemetryRig({
    toml: `[observability]\ntier = "otlp"\n[observability.otlp]\n${protocol === "grpc" ? "endpoint" : "endpoint_http"} = "${receiver.url}"\nheaders = { "api-key" = "\${OTEL_API_KEY}" }\ntimeout = "2s"\n`,
    env: { OTEL_API_KEY: "k-123", ...env },
    telemetry: { selfMetricsIntervalMs: 3_600_000 },
  });
}

it.each(["grpc", "http"] as const)(
  "exports traces, logs and metrics over %s, decoded with the official protos",
  async (protocol) => {
    const receiver = await startOtlpReceiver(protocol);
    try {
      const rig = await otlpRig(protocol, receiver);
      const { telemetry, entity } = rig;
      const fluxId = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
      const parent = telemetry.startSpan("flow.hop", { fluxId, attributes: { gear: "parse" } });
      const child = telemetry.startSpan("gear.process", { parent: parent.context });
      await child.end({ status: "error", attributes: { reason: "bad frame", attempt: 2 } });
      await parent.end();
      await telemetry.log("warn", "frame refused", { gear: "parse", bytes: 42 }, fluxId);
      await telemetry.counter("fluxrig.rack.heartbeats_sent", 7, { site: "nyc" });
      await telemetry.gauge("fluxrig.gear.queue", 3.5);
      await telemetry.histogram("gear_latency_ms", 12.25, { gear: "parse" });
      await telemetry.flush();
      await vi.waitFor(() => expect(new Set(receiver.received.map((r) => r.signal)).size).toBe(3), {
        timeout: 10_000,
      });
      // Nothing of it went over Snake.
      expect(await rig.records()).toEqual([]);

      for (const { headers } of receiver.received) expect(headers["api-key"]).toBe("k-123");
      const [traces] = ofSignal(receiver, "traces");
      const [resourceSpans] = traces.resourceSpans;
      expect(attrs(resourceSpans.resource.attributes)).toMatchObject({
        "service.name": "fluxrig-rack",
        "service.instance.id": entity.id,
        "fluxrig.entity.name": entity.name,
      });
      const [scopeSpans] = resourceSpans.scopeSpans;
      expect(scopeSpans.scope.name).toBe("fluxrig-rack");
      const spans = scopeSpans.spans;
      const byName = Object.fromEntries(spans.map((s: { name: string }) => [s.name, s]));
      const hop = byName["flow.hop"];
      const proc = byName["gear.process"];
      expect(hex(hop.traceId)).toBe(parent.context.traceId);
      expect(hex(hop.spanId)).toBe(parent.context.spanId);
      expect(hex(proc.spanId)).toBe(child.context.spanId);
      expect(hex(proc.parentSpanId)).toBe(parent.context.spanId);
      expect(hex(proc.traceId)).toBe(parent.context.traceId);
      expect(proc.status.code).toBe("STATUS_CODE_ERROR");
      expect(hop.status.code).toBe("STATUS_CODE_OK");
      expect(proc.kind).toBe("SPAN_KIND_INTERNAL");
      expect(attrs(proc.attributes)).toEqual({ reason: "bad frame", attempt: "2" });
      expect(attrs(hop.attributes)).toEqual({ gear: "parse", "fluxrig.flux_id": fluxId });
      expect(BigInt(hop.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(hop.startTimeUnixNano));

      const [logs] = ofSignal(receiver, "logs");
      const [logRecord] = logs.resourceLogs[0].scopeLogs[0].logRecords;
      expect(logRecord).toMatchObject({
        severityNumber: "SEVERITY_NUMBER_WARN",
        severityText: "WARN",
        body: { stringValue: "frame refused" },
      });
      expect(attrs(logRecord.attributes)).toEqual({ gear: "parse", bytes: "42", "fluxrig.flux_id": fluxId });
      expect(attrs(logs.resourceLogs[0].resource.attributes)["service.instance.id"]).toBe(entity.id);

      const metrics = ofSignal(receiver, "metrics").flatMap(
        (m) => m.resourceMetrics[0].scopeMetrics[0].metrics,
      );
      const metric = (name: string) => metrics.find((m: { name: string }) => m.name === name);
      expect(metric("fluxrig.rack.heartbeats_sent").sum).toMatchObject({
        isMonotonic: true,
        aggregationTemporality: "AGGREGATION_TEMPORALITY_DELTA",
        dataPoints: [{ asDouble: 7, attributes: [{ key: "site", value: { stringValue: "nyc" } }] }],
      });
      expect(metric("fluxrig.gear.queue").gauge.dataPoints[0].asDouble).toBe(3.5);
      expect(metric("gear_latency_ms").histogram.dataPoints[0]).toMatchObject({
        count: "1",
        sum: 12.25,
        min: 12.25,
        max: 12.25,
      });
    } finally {
      await receiver.stop();
    }
  },
);

it.each(["grpc", "http"] as const)(
  "spools while the %s receiver is down and sends every record when it is back",
  async (protocol) => {
    const receiver = await startOtlpReceiver(protocol);
    try {
      const rig = await otlpRig(protocol, receiver);
      const { telemetry } = rig;
      const emit = async (from: number, count: number) => {
        for (let i = from; i < from + count; i++) await telemetry.log("info", `event ${i}`, { i });
      };
      await emit(0, 300);
      await telemetry.flush();
      await receiver.stop();
      await emit(300, 2_000);
      await telemetry.flush();
      expect(telemetry.stats().spool.batches).toBeGreaterThan(0);
      const spooled = (await readdir(join(rig.stateDir, "spool", "otlp"))).filter((n) => n.endsWith(".cbor"));
      expect(spooled).toHaveLength(telemetry.stats().spool.batches);
      expect(rig.warnings.join("\n")).toMatch(/OTLP export failed/);

      await receiver.start();
      const bodies = () =>
        ofSignal(receiver, "logs").flatMap((r) =>
          r.resourceLogs.flatMap((rl: { scopeLogs: { logRecords: { body: { stringValue: string } }[] }[] }) =>
            rl.scopeLogs.flatMap((sl) => sl.logRecords.map((l) => l.body.stringValue)),
          ),
        );
      await vi.waitFor(() => expect(new Set(bodies()).size).toBe(2_300), { timeout: 20_000, interval: 200 });
      await telemetry.flush();
      expect(telemetry.stats()).toMatchObject({ recordsDropped: 0, spool: { batches: 0 } });
    } finally {
      await receiver.stop();
    }
  },
);

it("keeps the journal's fluxMsgs as Parquet under observability.otlp.messages.data_dir, PAN masked", async () => {
  const receiver = await startOtlpReceiver("http");
  try {
    const { entries, pans } = await visaJournalEntries();
    expect(pans.length).toBeGreaterThan(0);
    const plain = buildJournalEntry(sampleMessage({ type: "order" }), {
      direction: "internal",
      status: "ok",
      src: "a",
      dst: "b",
    }).entry;
    const rig = await startTelemetryRig({
      toml: `[observability]\ntier = "otlp"\n[observability.otlp]\nendpoint_http = "${receiver.url}"\n[observability.otlp.messages]\nenabled = true\n`,
      env: {},
    });
    const dataDir = join(rig.stateDir, "messages");
    const telemetry = await rig.newTelemetry({ localMessagesDir: dataDir });
    for (const entry of entries) await telemetry.journal(entry);
    await telemetry.journal(plain);
    await telemetry.close();

    const files = (await readdir(dataDir, { recursive: true })).filter((f) => f.endsWith(".parquet"));
    expect(
      files.filter((f) =>
        /^fluxSpec\/visa-v1\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/visa_[0-9A-Z]{26}\.parquet$/.test(f),
      ),
    ).not.toHaveLength(0);
    expect(
      files.filter((f) => /^generic\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/fluxmsg_[0-9A-Z]{26}\.parquet$/.test(f)),
    ).toHaveLength(1);
    const list = `[${files.map((f) => sqlString(join(dataDir, f))).join(", ")}]`;
    const described = await nativeQuery(`DESCRIBE SELECT * FROM read_parquet(${list})`);
    expect(described.map((c) => [c.column_name, c.column_type])).toEqual(NATIVE_MESSAGE_COLUMNS);
    const [counts] = await nativeQuery(`SELECT count(*)::INT AS n, count(DISTINCT record_id)::INT AS ids
        FROM read_parquet(${list})`);
    expect(counts).toEqual({ n: entries.length + 1, ids: entries.length + 1 });
    const rows =
      await nativeQuery(`SELECT promoted ->> 'pan' AS pan, entity_name, direction, epoch_ms(ts) AS ts
        FROM read_parquet(${list}) WHERE promoted IS NOT NULL ORDER BY ts`);
    expect(rows.map((r) => r.pan)).toEqual(expect.arrayContaining(pans.map((pan) => maskPan(pan))));
    expect(rows[0]).toMatchObject({ entity_name: rig.entity.name, direction: "inbound" });
    // No clear PAN anywhere in the files' bytes (promoted, raw_msg, statistics).
    const bytes = Buffer.concat(await Promise.all(files.map((f) => readFile(join(dataDir, f))))).toString(
      "latin1",
    );
    for (const pan of pans) expect(bytes).not.toContain(pan);
  } finally {
    await receiver.stop();
  }
});
