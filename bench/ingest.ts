/**
 * End-to-end ingest: N racks' worth of synthetic logs through the real path (rack telemetry client →
 * nats-server → the mixer's Snake bridge in workerd under wrangler dev → Parquet in local R2), for a fixed
 * duration at a target rate, then counted back from the Parquet files with native DuckDB.
 *
 *   npm run bench:ingest -- [--racks 4] [--rate 100000] [--seconds 10]
 *
 * Baseline, in the same run and against the same nats-server: raw JetStream publish of the same CBOR
 * batches (pre-encoded, window 256, msg ids) into a stream nobody consumes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { uuidv7 } from "uuidv7";
import { createTelemetry } from "../rack-agent/src/telemetry/index.ts";
import { nativeQuery, sqlString } from "../test/helpers/native-duckdb.ts";
import { downloadStored, listStored } from "../test/helpers/stored-files.ts";
import { eventually, startTestMixer } from "../test/helpers/test-mixer.ts";

const { values } = parseArgs({
  options: {
    racks: { type: "string", default: "4" },
    rate: { type: "string", default: "100000" },
    seconds: { type: "string", default: "10" },
  },
});
const RACKS = Number(values.racks);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

interface Health {
  ingest: {
    records_stored: number;
    flushes: number;
    objects_written: number;
    bytes_written: number;
    timing_ms: { decode: number; encode: number; put: number; ack: number };
  };
}

/** One rack: its own connection and client, paced to `rate` records/s for `seconds`. */
async function runRack(natsUrl: string, index: number, rate: number, stateDir: string) {
  const nc = await connect({ servers: natsUrl });
  const telemetry = await createTelemetry({
    nc,
    domain: "flux",
    entity: { id: uuidv7(), name: `bench-rack-${index}` },
    maxPayloadSize: 1_048_576,
    samplingRate: 1,
    enabled: true,
    stateDir: join(stateDir, `rack-${index}`),
    warn: console.warn,
    selfMetricsIntervalMs: 3_600_000,
  });
  const total = Math.round(rate * SECONDS);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    if (i % 500 === 0) {
      const ahead = started + (i / rate) * 1_000 - performance.now();
      if (ahead > 1) await new Promise((r) => setTimeout(r, ahead));
    }
    await telemetry.log(i % 50 === 0 ? "error" : "info", `payment ${i} authorised by issuer`, {
      gear_id: "router",
      seq: i,
    });
  }
  await telemetry.close();
  await nc.close();
  return {
    sent: telemetry.stats().recordsSent,
    batches: telemetry.stats().batchesSent,
    bytes: telemetry.stats().bytesSent,
  };
}

/** Raw JetStream publish of CBOR batches shaped like the client's, with a window of 256 acks. */
async function baseline(nc: NatsConnection, batches: number, batchBytes: number) {
  const jsm = await jetstreamManager(nc, { domain: "flux" });
  await jsm.streams.add({
    name: "bench-baseline",
    subjects: ["bench.baseline"],
    storage: StorageType.Memory,
    retention: RetentionPolicy.Limits,
  });
  const js = jetstream(nc, { domain: "flux" });
  const payload = new Uint8Array(batchBytes).fill(7);
  const inFlight = new Set<Promise<unknown>>();
  const started = performance.now();
  for (let i = 0; i < batches; i++) {
    const p = js.publish("bench.baseline", payload, { msgID: uuidv7() }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 256) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1_000;
  await jsm.streams.delete("bench-baseline");
  return seconds;
}

const work = await mkdtemp(join(tmpdir(), "fluxrig-bench-ingest-"));
console.log(
  `ingest bench: ${RACKS} racks, ${fmt(RATE)} records/s target for ${SECONDS} s; starting the local mixer…`,
);
const mixer = await startTestMixer();
try {
  const health = async () => (await (await fetch(`${mixer.apiUrl}/health`)).json()) as Health;
  const started = performance.now();
  const racks = await Promise.all(
    Array.from({ length: RACKS }, (_, i) => runRack(mixer.natsUrl, i, RATE / RACKS, work)),
  );
  const emitted = performance.now();
  const sent = racks.reduce((n, r) => n + r.sent, 0);
  const batches = racks.reduce((n, r) => n + r.batches, 0);
  const wireBytes = racks.reduce((n, r) => n + r.bytes, 0);
  await eventually(
    "every record stored",
    async () => ((await health()).ingest.records_stored >= sent ? true : undefined),
    600_000,
  );
  const stored = performance.now();
  const ingest = (await health()).ingest;

  const keys = (await listStored(mixer, "telemetry/logs/")).map((f) => f.key);
  const paths = await downloadStored(mixer, keys, join(work, "files"));
  const from = `read_parquet([${paths.map(sqlString).join(",")}])`;
  const [counted] = await nativeQuery(
    `SELECT count(*)::BIGINT AS n, count(DISTINCT record_id)::BIGINT AS ids FROM ${from} WHERE entity_name LIKE 'bench-rack-%'`,
  );
  const ndjson = join(work, "all.ndjson");
  await nativeQuery(`COPY (SELECT * FROM ${from}) TO ${sqlString(ndjson)} (FORMAT json)`);
  const { size: ndjsonBytes } = await import("node:fs/promises").then((fs) => fs.stat(ndjson));

  const nc = await connect({ servers: mixer.natsUrl });
  const baselineSeconds = await baseline(nc, batches, Math.round(wireBytes / batches));
  await nc.close();

  const e2eSeconds = (stored - started) / 1_000;
  const ids = Number(counted?.ids ?? 0);
  const rows = Number(counted?.n ?? 0);
  const t = ingest.timing_ms;
  const mixerMs = t.decode + t.encode + t.put + t.ack;
  console.log(
    [
      "",
      `records sent (acked by JetStream)    ${fmt(sent)} in ${fmt(batches)} batches (${fmt(wireBytes / batches)} B each)`,
      `emit rate (racks → JetStream)        ${fmt(sent / ((emitted - started) / 1_000))} records/s`,
      `end to end (emit start → all in R2)  ${fmt(sent / e2eSeconds)} records/s over ${e2eSeconds.toFixed(1)} s`,
      `records lost                         ${fmt(sent - ids)} (distinct record_ids in Parquet: ${fmt(ids)}; rows ${fmt(rows)})`,
      `bytes per record                     Parquet ${(ingest.bytes_written / ingest.records_stored).toFixed(1)} B, NDJSON ${(ndjsonBytes / rows).toFixed(1)} B, wire CBOR ${(wireBytes / sent).toFixed(1)} B`,
      `mixer flushes / objects              ${fmt(ingest.flushes)} / ${fmt(ingest.objects_written)}`,
      `mixer time per 100k records          decode ${((t.decode / ingest.records_stored) * 1e5).toFixed(0)} ms, parquet ${((t.encode / ingest.records_stored) * 1e5).toFixed(0)} ms, R2 put ${((t.put / ingest.records_stored) * 1e5).toFixed(0)} ms, ack ${((t.ack / ingest.records_stored) * 1e5).toFixed(0)} ms (total ${((mixerMs / ingest.records_stored) * 1e5).toFixed(0)} ms)`,
      `baseline: raw JetStream publish      ${fmt(sent / baselineSeconds)} records/s (same batches, window 256)`,
      `ratio end-to-end / baseline          ${(sent / e2eSeconds / (sent / baselineSeconds)).toFixed(3)}`,
    ].join("\n"),
  );
} finally {
  await mixer.dispose();
  await rm(work, { recursive: true, force: true });
}
