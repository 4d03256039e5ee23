/**
 * Telemetry publish throughput: the rack's client against the raw JetStream calls it is built on, in one run
 * against one real nats-server (memory streams, as with the default snake.durable = false).
 *
 *   npx tsx bench/telemetry-publish.ts
 *
 * 1. client: 200k log records through createTelemetry (awaiting each call), then flush.
 * 2. raw window: the same number of records, CBOR-batched the same way beforehand (not timed), published with
 *    js.publish + msgID and the same window of acks in flight.
 * 3. per record: 20k records, one message each, awaiting every ack (the ~5k msg/s ceiling).
 * Also printed: how fast building and CBOR-batching the records alone goes (step 2's untimed preparation,
 * timed), which is what bounds the client.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JetStreamClient, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { AckWindow } from "../rack-agent/src/snake/ack-window.ts";
import { MSG_ID_HEADER_BYTES } from "../rack-agent/src/telemetry/batch-publisher.ts";
import { createTelemetry } from "../rack-agent/src/telemetry/index.ts";
import { RecordBatch, type SealedBatch } from "../rack-agent/src/telemetry/record-batch.ts";
import { loadConfig, mixerConfigSchema, rackConfigSchema } from "../shared/config/index.ts";
import { cbor } from "../shared/fluxmsg/cbor.ts";
import { TELEMETRY_STREAM, telemetrySubject } from "../shared/fluxmsg/subjects.ts";
import { uuidv7 } from "../shared/random/uuidv7.ts";
import { ensureStreams } from "../shared/snake/streams.ts";
import { startNatsServer } from "../test/helpers/nats-server.ts";

const RECORDS = 200_000;
const PER_RECORD = 20_000;
const WINDOW = 256;
const IN_FLIGHT_BYTES = 16 * 2 ** 20;

const server = await startNatsServer();
const stateDir = await mkdtemp(join(tmpdir(), "fluxrig-bench-"));
const nc = await connect({ servers: server.url });
try {
  const rack = loadConfig(rackConfigSchema, { env: { FLUXRIG_BASE_NAME: "rack-bench-01" } }).config;
  const jsm = await jetstreamManager(nc, { domain: rack.snake.domain });
  await ensureStreams(jsm, loadConfig(mixerConfigSchema, {}).config.snake);
  const js = jetstream(nc, { domain: rack.snake.domain });
  const entity = { id: uuidv7(), name: rack.base.name };
  const logRecord = (i: number) => ({
    record_id: uuidv7(),
    ts: Date.now(),
    entity_id: entity.id,
    entity_name: entity.name,
    flux_id: null,
    level: "info",
    message: `request ${i} handled`,
    attributes: { i, gear: "parser" },
  });

  // 1. The client.
  const telemetry = await createTelemetry({
    nc,
    domain: rack.snake.domain,
    entity,
    maxPayloadSize: rack.rack.max_payload_size,
    samplingRate: 1,
    enabled: true,
    stateDir,
    window: WINDOW,
    maxInFlightBytes: IN_FLIGHT_BYTES,
    warn: console.warn,
    selfMetricsIntervalMs: 3_600_000,
  });
  let started = performance.now();
  for (let i = 0; i < RECORDS; i++)
    await telemetry.log("info", `request ${i} handled`, { i, gear: "parser" });
  await telemetry.flush();
  const clientSeconds = (performance.now() - started) / 1000;
  const stats = telemetry.stats();
  await telemetry.close();
  await jsm.streams.purge(TELEMETRY_STREAM);

  // 2. Raw JetStream publish of the same batches with the same window.
  const limit = Math.min(rack.rack.max_payload_size, nc.info?.max_payload ?? Infinity) - MSG_ID_HEADER_BYTES;
  const batches: SealedBatch[] = [];
  const subject = telemetrySubject("logs", entity.name);
  const batch = new RecordBatch("logs");
  started = performance.now();
  for (let i = 0; i < RECORDS; i++) {
    const record = cbor.encode(logRecord(i));
    if (!batch.fits(record.length, limit)) batches.push(batch.seal(subject));
    batch.add(record);
  }
  batches.push(batch.seal(subject));
  const encodeSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  await publishWindowed(js, batches);
  const rawSeconds = (performance.now() - started) / 1000;
  await jsm.streams.purge(TELEMETRY_STREAM);

  // 3. One acked publish per record.
  const singles = Array.from({ length: PER_RECORD }, (_, i) => cbor.encode(logRecord(i)));
  started = performance.now();
  for (const record of singles) await js.publish(subject, record, { msgID: uuidv7() });
  const perRecordSeconds = (performance.now() - started) / 1000;

  const clientRate = RECORDS / clientSeconds;
  const rawRate = RECORDS / rawSeconds;
  const perRecordRate = PER_RECORD / perRecordSeconds;
  const rate = (n: number) => `${Math.round(n).toLocaleString("en-US")} records/s`;
  console.log(`nats-server ${nc.info?.version}, max_payload ${nc.info?.max_payload}, window ${WINDOW}`);
  console.log(
    `client        ${rate(clientRate)}  (${RECORDS} records, ${stats.batchesSent} batches of ~${Math.round(stats.bytesSent / stats.batchesSent)} B, ${stats.publishErrors} publish errors, ${stats.recordsSpooled} spooled)`,
  );
  console.log(`raw window    ${rate(rawRate)}  (same records, ${batches.length} batches pre-encoded)`);
  console.log(
    `encode only   ${rate(RECORDS / encodeSeconds)}  (building and CBOR-batching the raw run's records, no bus)`,
  );
  console.log(`per record    ${rate(perRecordRate)}  (${PER_RECORD} messages, each ack awaited)`);
  console.log(`client / raw window = ${(clientRate / rawRate).toFixed(2)}`);
  console.log(`client / encode only = ${((clientRate * encodeSeconds) / RECORDS).toFixed(2)}`);
  console.log(`client / per record = ${(clientRate / perRecordRate).toFixed(1)}`);
} finally {
  await nc.close();
  await server.stop();
  await rm(stateDir, { recursive: true, force: true });
}

async function publishWindowed(js: JetStreamClient, batches: SealedBatch[]): Promise<void> {
  const window = new AckWindow(WINDOW, IN_FLIGHT_BYTES);
  const acks: Promise<unknown>[] = [];
  for (const { subject, data, msgID } of batches) {
    await window.acquire(data.length);
    acks.push(js.publish(subject, data, { msgID }).finally(() => window.release(data.length)));
  }
  await Promise.all(acks);
}
