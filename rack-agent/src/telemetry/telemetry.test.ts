import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect, it, vi } from "vitest";
import { recordSchemaByKind, type TelemetryKind } from "../../../shared/telemetry/records.ts";
import { startTelemetryRig } from "../../../test/helpers/rack-telemetry.ts";
import { readTelemetryStream } from "../../../test/helpers/telemetry-stream.ts";
import { MSG_ID_HEADER_BYTES } from "./batch-publisher.ts";
import { isTraceSampled } from "./sampling.ts";

const FLUX_ID = "0190f5c2-7f6a-7cc1-8e55-5d2b0c7a4e10";

it("publishes logs, metrics and spans that read back as the record schemas say", async () => {
  const { telemetry, jsm, entity, records } = await startTelemetryRig();

  await telemetry.log("warn", "disk almost full", { free_mb: 12, mount: "/data" }, FLUX_ID);
  await telemetry.counter("gear_msgs_total", 3, { gear: "parser" });
  await telemetry.gauge("queue_depth", 7);
  await telemetry.histogram("gear_latency_ms", 1.5);
  const root = telemetry.startSpan("scenario.run", { fluxId: FLUX_ID, attributes: { scenario: "s1" } });
  const child = telemetry.startSpan("gear.process", { parent: root.context });
  await child.end({ status: "error", attributes: { error: "bad input" } });
  await root.end();
  await telemetry.flush();

  const stored = await readTelemetryStream(jsm);
  expect(stored.map((m) => m.subject).sort()).toEqual([
    "flux.telemetry.logs.rack-test-01",
    "flux.telemetry.metrics.rack-test-01",
    "flux.telemetry.traces.rack-test-01",
  ]);
  expect(new Set(stored.map((m) => m.msgID)).size).toBe(3);
  const all = await records();
  for (const { kind, record } of all) {
    expect(
      () => recordSchemaByKind[kind as TelemetryKind].parse(record),
      JSON.stringify(record),
    ).not.toThrow();
    expect(record).toMatchObject({ entity_id: entity.id, entity_name: "rack-test-01" });
    expect(record.record_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
  }
  expect(new Set(all.map(({ record }) => record.record_id)).size).toBe(all.length);

  const byKind = (kind: string) => all.filter((r) => r.kind === kind).map((r) => r.record);
  expect(byKind("logs")).toEqual([
    expect.objectContaining({
      level: "warn",
      message: "disk almost full",
      attributes: { free_mb: 12, mount: "/data" },
      flux_id: FLUX_ID,
    }),
  ]);
  expect(byKind("metrics").map(({ name, type, value, labels }) => ({ name, type, value, labels }))).toEqual([
    { name: "gear_msgs_total", type: "counter", value: 3, labels: { gear: "parser" } },
    { name: "queue_depth", type: "gauge", value: 7, labels: {} },
    { name: "gear_latency_ms", type: "histogram", value: 1.5, labels: {} },
  ]);
  const [childSpan, rootSpan] = byKind("traces");
  expect(rootSpan).toMatchObject({
    trace_id: root.context.traceId,
    span_id: root.context.spanId,
    parent_span_id: null,
    span_name: "scenario.run",
    status: "ok",
    attributes: { scenario: "s1" },
    flux_id: FLUX_ID,
  });
  expect(childSpan).toMatchObject({
    trace_id: root.context.traceId,
    parent_span_id: root.context.spanId,
    status: "error",
    attributes: { error: "bad input" },
  });
  expect(telemetry.stats()).toMatchObject({
    recordsSent: 6,
    batchesSent: 3,
    publishErrors: 0,
    recordsDropped: 0,
  });
});

it("never publishes a message over rack.max_payload_size, and drops a record that cannot fit", async () => {
  const { telemetry, jsm, warnings } = await startTelemetryRig({
    env: { FLUXRIG_RACK_MAX_PAYLOAD_SIZE: "2KiB" },
    telemetry: { window: 4 },
  });

  for (let i = 0; i < 2_000; i++) await telemetry.log("info", `record ${i} ${"x".repeat(i % 100)}`, { i });
  await telemetry.log("error", "y".repeat(3_000));
  await telemetry.flush();

  const stored = await readTelemetryStream(jsm);
  expect(stored.length).toBeGreaterThan(100);
  for (const message of stored) expect(message.bytes + MSG_ID_HEADER_BYTES).toBeLessThanOrEqual(2_048);
  const indexes = stored.flatMap((m) =>
    m.batch.records.map((r) => (r as { attributes: { i: number } }).attributes.i),
  );
  expect(indexes).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
  expect(telemetry.stats()).toMatchObject({
    recordsSent: 2_000,
    recordsDropped: 1,
    dropped: { too_large: 1 },
    recordsSpooled: 0, // callers that await never spill
  });
  expect(warnings.join("\n")).toMatch(/dropped 1 record\(s\), too_large: .*rack\.max_payload_size/);
});

it("keeps batches within the server's max_payload when the config allows more", async () => {
  const { telemetry, jsm, config } = await startTelemetryRig({ server: { maxPayload: 8_192 } });
  expect(config.rack.max_payload_size).toBe(2_097_152);

  for (let i = 0; i < 3_000; i++) await telemetry.counter("ticks", i, { shard: String(i % 4) });
  await telemetry.flush();

  const stored = await readTelemetryStream(jsm);
  for (const message of stored) expect(message.bytes + MSG_ID_HEADER_BYTES).toBeLessThanOrEqual(8_192);
  expect(stored.reduce((sum, m) => sum + m.batch.records.length, 0)).toBe(3_000);
  expect(telemetry.stats().publishErrors).toBe(0);
});

it("samples whole traces by trace id, never single spans", async () => {
  const { telemetry, records } = await startTelemetryRig({
    env: { FLUXRIG_OBSERVABILITY_SAMPLING_RATE: "0.5" },
  });
  const traceIds: string[] = [];

  for (let t = 0; t < 200; t++) {
    const root = telemetry.startSpan("root");
    const child = telemetry.startSpan("child", { parent: root.context });
    // A parent known only by its ids (e.g. from a message header): the trace id decides again, the same way.
    const { traceId, spanId } = child.context;
    const remote = telemetry.startSpan("remote", { parent: { traceId, spanId } });
    traceIds.push(root.context.traceId);
    await remote.end();
    await child.end();
    await root.end();
  }
  await telemetry.flush();

  const spansPerTrace = new Map<string, number>();
  for (const { record } of await records()) {
    const traceId = record.trace_id as string;
    spansPerTrace.set(traceId, (spansPerTrace.get(traceId) ?? 0) + 1);
  }
  const kept = traceIds.filter((id) => isTraceSampled(id, 0.5));
  expect(kept.length).toBeGreaterThan(0);
  expect(kept.length).toBeLessThan(200);
  expect([...spansPerTrace.keys()].sort()).toEqual(kept.sort());
  expect([...spansPerTrace.values()].every((count) => count === 3)).toBe(true);
});

it("does nothing under FLUXRIG_DISABLE_TELEMETRY but publish the journal (business data)", async () => {
  const { telemetry, jsm, config, stateDir } = await startTelemetryRig({
    env: { FLUXRIG_DISABLE_TELEMETRY: "true" },
  });
  expect(config.observability.enabled).toBe(false);

  await telemetry.log("info", "nobody hears this");
  await telemetry.counter("c", 1);
  const span = telemetry.startSpan("s");
  await span.end();
  await telemetry.flush();

  expect(span.context.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect((await jsm.streams.info("flux-telemetry")).state.messages).toBe(0);
  expect(existsSync(join(stateDir, "spool", "telemetry"))).toBe(false);
  expect(telemetry.stats()).toMatchObject({ recordsSent: 0, batchesSent: 0 });

  await telemetry.journal({
    ts: Date.now(),
    trace_id: span.context.traceId,
    flux_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    src_gear_id: "a",
    dst_gear_id: "b",
    msg_type: "order",
    direction: "internal",
    status: "ok",
    raw_msg: null,
    promoted: null,
    spec: null,
  });
  await telemetry.flush();
  const { state } = await jsm.streams.info("flux-telemetry", { subjects_filter: "flux.journal.>" });
  expect(Object.keys(state.subjects ?? {})).toEqual([`flux.journal.${config.base.name}`]);
  expect(telemetry.journalStats()).toMatchObject({ recordsSent: 1, batchesSent: 1 });
});

it("publishes over a ws:// Snake URL", async () => {
  const { telemetry, nc, server, records } = await startTelemetryRig({ websocket: true });
  expect(nc.getServer()).toBe(new URL(server.wsUrl).host);

  for (let i = 0; i < 500; i++) await telemetry.log("debug", `over websocket ${i}`);
  await telemetry.flush();

  expect(await records()).toHaveLength(500);
});

it("reports its own pipeline as fluxrig.telemetry.* metrics", async () => {
  const { telemetry, records } = await startTelemetryRig({ telemetry: { selfMetricsIntervalMs: 50 } });

  for (let i = 0; i < 10; i++) await telemetry.log("info", `work ${i}`);
  await telemetry.flush();

  await vi.waitFor(
    async () => {
      // Each point is what was sent since the previous one: together they count every record.
      const sent = (await records()).filter(({ record }) => record.name === "fluxrig.telemetry.records_sent");
      expect(sent.reduce((sum, { record }) => sum + (record.value as number), 0)).toBeGreaterThanOrEqual(10);
    },
    { timeout: 10_000, interval: 100 },
  );
  const names = new Set((await records()).map(({ record }) => record.name));
  for (const name of ["batches_sent", "publish_errors", "records_dropped", "spool_batches"]) {
    expect(names).toContain(`fluxrig.telemetry.${name}`);
  }
});
