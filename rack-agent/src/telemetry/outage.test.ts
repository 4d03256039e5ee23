import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { expect, it, vi } from "vitest";
import { loadConfig, mixerConfigSchema } from "../../../shared/config/index.ts";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { TELEMETRY_STREAM } from "../../../shared/fluxmsg/subjects.ts";
import { ensureStreams } from "../../../shared/snake/streams.ts";
import { startTelemetryRig, type TelemetryRig } from "../../../test/helpers/rack-telemetry.ts";
import { readTelemetryStream } from "../../../test/helpers/telemetry-stream.ts";
import { RecordBatch } from "./record-batch.ts";
import { Spool } from "./spool.ts";

/** Every log record arrived once and every message id is stored once: nothing lost, nothing doubled. */
async function expectExactlyOnce(rig: TelemetryRig, expected: number) {
  // Logs only: the client's own metrics may arrive too.
  const logIds = async () => {
    const stored = await readTelemetryStream(rig.jsm);
    return stored
      .filter((m) => m.batch.kind === "logs")
      .flatMap((m) => m.batch.records.map((r) => (r as { record_id: string }).record_id));
  };
  await vi.waitFor(async () => expect(await logIds()).toHaveLength(expected), {
    timeout: 20_000,
    interval: 200,
  });
  const ids = await logIds();
  expect(new Set(ids).size).toBe(expected);
  expect(ids).toHaveLength(expected);
  const stored = await readTelemetryStream(rig.jsm);
  expect(new Set(stored.map((m) => m.msgID)).size).toBe(stored.length);
}

async function spoolFiles(rig: TelemetryRig) {
  return (await readdir(join(rig.stateDir, "spool", "telemetry"))).filter((name) => name.endsWith(".cbor"));
}

it("spools while the bus is down and delivers everything exactly once when it is back", async () => {
  const rig = await startTelemetryRig({ durable: true, env: { FLUXRIG_RACK_MAX_PAYLOAD_SIZE: "2KiB" } });
  const { telemetry } = rig;
  const emit = async (from: number, count: number) => {
    for (let i = from; i < from + count; i++) await telemetry.log("info", `event ${i}`, { i });
  };

  await emit(0, 500);
  await telemetry.flush();
  // Stop the server with batches still in flight, and keep emitting through the outage.
  const inFlight = emit(500, 1_500);
  await rig.stopServer();
  await inFlight;
  await emit(2_000, 1_000);
  await telemetry.flush();
  expect(telemetry.stats().spool.batches).toBeGreaterThan(0);
  expect((await spoolFiles(rig)).length).toBe(telemetry.stats().spool.batches);

  await rig.startServer();

  await expectExactlyOnce(rig, 3_000);
  await telemetry.flush();
  expect(telemetry.stats()).toMatchObject({ recordsDropped: 0, spool: { batches: 0 } });
  expect(await spoolFiles(rig)).toEqual([]);
});

it("a rack restarted after an outage drains the spool its previous run left", async () => {
  const rig = await startTelemetryRig({ durable: true });

  await rig.stopServer();
  for (let i = 0; i < 300; i++) await rig.telemetry.log("info", `before the crash ${i}`);
  await rig.telemetry.close(); // a clean stop while down: everything goes to disk
  expect((await spoolFiles(rig)).length).toBeGreaterThan(0);
  await rig.startServer();

  const next = await rig.newTelemetry();

  await expectExactlyOnce(rig, 300);
  await next.flush();
  expect(await spoolFiles(rig)).toEqual([]);
});

it("republishes a spooled batch under its message id, so a batch that did land is not stored twice", async () => {
  const rig = await startTelemetryRig();
  await rig.telemetry.close();
  // A batch whose publish landed but whose ack was lost: it is both in the stream and in the spool.
  const batch = new RecordBatch("logs");
  batch.add(cbor.encode({ record_id: "0190f5c2-7f6a-7cc1-8e55-5d2b0c7a4e10", message: "once" }));
  const sealed = batch.seal("flux.telemetry.logs.rack-test-01");
  await jetstream(rig.nc, { domain: rig.config.snake.domain }).publish(sealed.subject, sealed.data, {
    msgID: sealed.msgID,
  });
  const spool = await Spool.open(join(rig.stateDir, "spool", "telemetry"), 1 << 20, () => undefined);
  await spool.write(sealed);

  const next = await rig.newTelemetry();
  await vi.waitFor(() => expect(next.stats().duplicates).toBe(1), { timeout: 10_000 });

  const stored = await readTelemetryStream(rig.jsm);
  expect(stored.map((m) => m.msgID)).toEqual([sealed.msgID]);
  expect(next.stats()).toMatchObject({ recordsSent: 1, spool: { batches: 0 } });
});

it("spools while the telemetry stream is missing and drains once it exists again", async () => {
  // With snake.durable = false a nats-server restart loses the streams until the mixer recreates them.
  const rig = await startTelemetryRig();
  await rig.jsm.streams.delete(TELEMETRY_STREAM);

  for (let i = 0; i < 100; i++) await rig.telemetry.log("info", `while nobody stores ${i}`);
  await rig.telemetry.flush();
  expect(rig.telemetry.stats()).toMatchObject({ recordsSent: 0, recordsSpooled: 100 });
  expect(rig.warnings.join("\n")).toMatch(/publish to flux\.telemetry\.logs\.rack-test-01 failed/);

  await ensureStreams(rig.jsm, loadConfig(mixerConfigSchema, {}).config.snake);

  await expectExactlyOnce(rig, 100);
});

it("holds a caller that does not await to bounded memory: it spills to the spool, then drops and counts", async () => {
  const rig = await startTelemetryRig({
    env: { FLUXRIG_RACK_MAX_PAYLOAD_SIZE: "1KiB" },
    telemetry: { window: 1, maxInFlightBytes: 4_096 },
  });

  for (let i = 0; i < 2_000; i++) void rig.telemetry.log("info", `flood ${i}`);
  await rig.telemetry.flush();

  const { recordsSpooled, dropped } = rig.telemetry.stats();
  expect(recordsSpooled).toBeGreaterThan(0);
  expect(dropped.overloaded).toBeLessThan(2_000);
  await expectExactlyOnce(rig, 2_000 - dropped.overloaded);
});

it("keeps the spool within store.wal_max_size_mb: the oldest records are dropped, counted exactly and told", async () => {
  const rig = await startTelemetryRig({
    durable: true,
    env: { FLUXRIG_STORE_WAL_MAX_SIZE_MB: "1", FLUXRIG_RACK_MAX_PAYLOAD_SIZE: "16KiB" },
  });
  const { telemetry } = rig;
  await rig.stopServer();
  // ~3 MB of records into a 1 MiB spool.
  const EMITTED = 12_000;
  for (let i = 0; i < EMITTED; i++) await telemetry.log("info", `outage ${i} ${"x".repeat(200)}`, { i });
  await telemetry.flush();

  const { dropped, recordsDropped, spool } = telemetry.stats();
  expect(spool.bytes).toBeLessThanOrEqual(2 ** 20);
  expect(dropped.spool_full).toBeGreaterThan(0);
  expect(recordsDropped).toBe(dropped.spool_full);
  // Told, but not once per dropped batch.
  const told = rig.warnings.filter((w) => w.includes("spool_full"));
  expect(told[0]).toMatch(
    /telemetry: dropped \d+ record\(s\), spool_full: spool \S+ is full \(1048576 bytes\)/,
  );
  expect(told.length).toBeLessThan(5);

  await rig.startServer();
  // Everything not counted as dropped arrives once. The counter is read again once the spool is empty: a batch
  // being republished when the spool filled was given up but not yet counted; it is counted only if its
  // publish then fails, and delivered if it lands (the reconnect flushes it).
  await vi.waitFor(() => expect(telemetry.stats().spool.batches).toBe(0), { timeout: 20_000 });
  const finalDropped = telemetry.stats().dropped.spool_full;
  expect(finalDropped).toBeGreaterThanOrEqual(dropped.spool_full);
  await expectExactlyOnce(rig, EMITTED - finalDropped);
  // The oldest went first: what arrived is the newest records, plus at most one older run, the batches that
  // were already being republished when newer ones needed their room.
  const arrived = (await rig.records())
    .filter((r) => r.kind === "logs")
    .map((r) => (r.record.attributes as { i: number }).i)
    .sort((a, b) => a - b);
  const runs = arrived.filter((i, n) => n === 0 || arrived[n - 1] !== i - 1).length;
  expect(runs).toBeLessThanOrEqual(2);
  expect(arrived.at(-1)).toBe(EMITTED - 1);
});
