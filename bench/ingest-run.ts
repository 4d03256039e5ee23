/**
 * One end-to-end ingest run, shared by `bench:ingest` and `bench:journal`: N racks' worth of synthetic
 * records through the real path (rack telemetry client → nats-server → the mixer's Snake bridge in workerd
 * → Parquet in local R2), paced to a target rate, then counted back from the Parquet files with native
 * DuckDB. `signal` picks what the racks emit: telemetry logs (`mixer-ingest` consumer) or journal records
 * (`mixer-journal` consumer, `messages/generic/`).
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createTelemetry, type Telemetry } from "../rack-agent/src/telemetry/index.ts";
import { uuidv7 } from "../shared/random/uuidv7.ts";
import { nativeQuery, sqlString } from "../test/helpers/native-duckdb.ts";
import { downloadStored, listStored } from "../test/helpers/stored-files.ts";
import { startTestMixer, type TestMixer } from "../test/helpers/test-mixer.ts";
import { benchJournalEntry, benchLog } from "./bench-records.ts";
import { type BusAuth, rackCredentials } from "./bus-credentials.ts";
import { processCpuSeconds } from "./process-cpu.ts";
import { replayRacks } from "./replay-batches.ts";

export type IngestSignal = "logs" | "journal";
/**
 * Who emits: `racks`, rack telemetry clients encoding every record (the whole path, on the same 2 cores as the
 * mixer); `replay`, their batches encoded once and published again with new record ids (the mixer alone,
 * draining a backlog: see replay-batches.ts).
 */
export type IngestSource = "racks" | "replay";

/** Reads `--source`: racks or replay. */
export function ingestSource(value: string | undefined): IngestSource {
  if (value === "racks" || value === "replay") return value;
  throw new Error(`--source ${value}: expected racks or replay`);
}

export const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** How long a stage may go without progress before the bench gives up on it. */
const STALL_MS = 180_000;

/**
 * Runs one stage of a bench and says so. It fails, naming the stage, when the mixer stops meanwhile (wrangler
 * dev can die, e.g. when its esbuild watcher crashes on a busy machine) or when it takes longer than
 * `timeoutMs`: a bench must never sit silent for minutes.
 *
 * @example const mixer = await stage(undefined, "starting the local mixer", 300_000, startTestMixer());
 */
export async function stage<T>(
  mixer: TestMixer | undefined,
  name: string,
  timeoutMs: number,
  work: Promise<T>,
): Promise<T> {
  console.log(`… ${name}`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`bench stage "${name}" did not finish within ${timeoutMs / 1_000} s`)),
      timeoutMs,
    );
  });
  const died = mixer?.failed.then((reason): never => {
    throw new Error(`bench stage "${name}": the local mixer stopped (${reason})`);
  });
  // The mixer also "fails" when it is stopped at the end: only the race below may report it.
  died?.catch(() => undefined);
  try {
    return await Promise.race([work, timedOut, ...(died ? [died] : [])]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts the local mixer as a bench stage (migrations and the Worker's first build can take minutes under
 * load), its bus in operator mode with `auth = "jwt"`.
 */
export function startBenchMixer(auth: BusAuth = "none", bridges = 1): Promise<TestMixer> {
  return stage(
    undefined,
    `starting the local mixer (snake.auth = ${auth}, ingest.bridges = ${bridges})`,
    300_000,
    startTestMixer({ env: { FLUXRIG_SNAKE_AUTH: auth, FLUXRIG_INGEST_BRIDGES: String(bridges) } }),
  );
}

interface PumpHealth {
  records_stored: number;
  flushes: number;
  objects_written: number;
  bytes_written: number;
  timing_ms: { decode: number; encode: number; put: number; ack: number };
}

/** Where each signal is counted in /health and stored in R2. */
const SIGNAL = {
  logs: { health: "ingest", prefix: "telemetry/logs/" },
  journal: { health: "journal", prefix: "messages/generic/" },
} as const;

/** One synthetic record of the signal, through the client's real entry point. */
function emitOne(telemetry: Telemetry, signal: IngestSignal, i: number): Promise<void> {
  if (signal === "journal") return telemetry.journal(benchJournalEntry(i));
  const { level, message, attributes } = benchLog(i);
  return telemetry.log(level, message, attributes);
}

/** One rack: its own connection and client, paced to `rate` records/s for `seconds`. */
async function runRack(
  mixer: TestMixer,
  signal: IngestSignal,
  index: number,
  rate: number,
  seconds: number,
  stateDir: string,
) {
  const entity = { id: uuidv7(), name: `bench-${signal}-${index}` };
  const nc = await connect({
    servers: mixer.natsUrl,
    ...(await rackCredentials(mixer, entity.id, entity.name)),
  });
  const telemetry = await createTelemetry({
    nc,
    domain: "flux",
    entity,
    maxPayloadSize: 1_048_576,
    samplingRate: 1,
    enabled: true,
    stateDir: join(stateDir, `${signal}-rack-${index}`),
    warn: console.warn,
    selfMetricsIntervalMs: 3_600_000,
  });
  const total = Math.round(rate * seconds);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    if (i % 500 === 0) {
      const ahead = started + (i / rate) * 1_000 - performance.now();
      if (ahead > 1) await new Promise((r) => setTimeout(r, ahead));
    }
    await emitOne(telemetry, signal, i);
  }
  await telemetry.close();
  await nc.close();
  const stats = signal === "logs" ? telemetry.stats() : telemetry.journalStats();
  return { sent: stats.recordsSent, batches: stats.batchesSent, bytes: stats.bytesSent };
}

export interface IngestRun {
  signal: IngestSignal;
  source: IngestSource;
  sent: number;
  batches: number;
  wireBytes: number;
  emitRate: number;
  e2eRate: number;
  e2eSeconds: number;
  /** Distinct record ids and rows found in the Parquet files. */
  ids: number;
  rows: number;
  parquetBytesPerRecord: number;
  pump: PumpHealth;
  /** CPU seconds the mixer's workerd processes and nats-server used from the emit's start until all was stored. */
  cpu: { mixer: number; bus: number };
  /** Records stored per second while the bridge had a backlog; undefined when the run was too short to tell. */
  busyRate: number | undefined;
  /** The downloaded Parquet files. */
  paths: string[];
}

/**
 * Runs `racks` clients at `rate` records/s in all for `seconds` against a running mixer, waits until the
 * bridge stored every acknowledged record, and counts them back.
 *
 * @example const run = await runIngest(mixer, { signal: "journal", racks: 4, rate: 100_000, seconds: 10, work });
 */
export async function runIngest(
  mixer: TestMixer,
  options: {
    signal: IngestSignal;
    racks: number;
    rate: number;
    seconds: number;
    work: string;
    source?: IngestSource;
  },
): Promise<IngestRun> {
  const { signal, racks, rate, seconds, work, source = "racks" } = options;
  const where = SIGNAL[signal];
  // A request to a Worker whose build broke can hang for minutes: every one has a deadline.
  const health = async () =>
    (
      (await (
        await fetch(`${mixer.apiUrl}/health`, { signal: AbortSignal.timeout(30_000) })
      ).json()) as Record<string, PumpHealth>
    )[where.health] as PumpHealth;
  const before = (await stage(mixer, `[${signal}] reading /health`, 60_000, health())).records_stored;
  const cpuBefore = {
    mixer: await processCpuSeconds("workerd"),
    bus: await processCpuSeconds("nats-server"),
  };
  const started = performance.now();
  const progress = sampleProgress(health);
  const results =
    source === "replay"
      ? [
          await stage(
            mixer,
            `[${signal}] ${racks} racks replaying ${fmt(rate * seconds)} records (batches encoded once)`,
            seconds * 10_000 + STALL_MS,
            replayRacks(mixer, signal, racks, rate * seconds),
          ),
        ]
      : await stage(
          mixer,
          `[${signal}] ${racks} racks emitting ${fmt(rate * seconds)} records`,
          seconds * 10_000 + STALL_MS,
          Promise.all(
            Array.from({ length: racks }, (_, i) => runRack(mixer, signal, i, rate / racks, seconds, work)),
          ),
        );
  const emitted = performance.now();
  const sent = results.reduce((n, r) => n + r.sent, 0);
  await stage(
    mixer,
    `[${signal}] the bridge storing ${fmt(sent)} records`,
    3_600_000,
    untilStored(health, before + sent),
  );
  const stored = performance.now();
  const cpu = {
    mixer: (await processCpuSeconds("workerd")) - cpuBefore.mixer,
    bus: (await processCpuSeconds("nats-server")) - cpuBefore.bus,
  };
  const busyRate = busyStoreRate(await progress.stop());
  const pump = await health();
  const keys = (await listStored(mixer, where.prefix)).map((f) => f.key);
  const paths = await stage(
    mixer,
    `[${signal}] downloading ${keys.length} objects`,
    600_000,
    downloadStored(mixer, keys, join(work, `${signal}-files`)),
  );
  const [counted] = await nativeQuery(
    `SELECT count(*)::BIGINT AS n, count(DISTINCT record_id)::BIGINT AS ids FROM read_parquet([${paths.map(sqlString).join(",")}]) WHERE entity_name LIKE 'bench-${signal}-%'`,
  );
  const e2eSeconds = (stored - started) / 1_000;
  return {
    signal,
    source,
    sent,
    batches: results.reduce((n, r) => n + r.batches, 0),
    wireBytes: results.reduce((n, r) => n + r.bytes, 0),
    emitRate: sent / ((emitted - started) / 1_000),
    e2eRate: sent / e2eSeconds,
    e2eSeconds,
    ids: Number(counted?.ids ?? 0),
    rows: Number(counted?.n ?? 0),
    parquetBytesPerRecord: pump.bytes_written / pump.records_stored,
    pump,
    cpu,
    busyRate,
    paths,
  };
}

interface ProgressSample {
  at: number;
  stored: number;
}

/** Reads the pump's stored count every 250 ms from now until stopped (a failed read is skipped). */
function sampleProgress(health: () => Promise<PumpHealth>) {
  const samples: ProgressSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const now = await health().catch(() => undefined);
      if (now) samples.push({ at: performance.now(), stored: now.records_stored });
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

/**
 * The bridge's own rate while records waited for it: from the racks' start to its last flush but one when that
 * last one came more than 2 s after the one before (it waited up to `ingest.flush_interval` for a pull that the
 * stream could no longer fill: the end-to-end figure's tail). Undefined with fewer than two flushes in the run.
 */
export function busyStoreRate(samples: readonly ProgressSample[]): number | undefined {
  const changes = samples.filter((s, i) => i > 0 && s.stored > (samples[i - 1] as ProgressSample).stored);
  const [start] = samples;
  let last = changes.at(-1);
  const before = changes.at(-2);
  if (!start || !last || !before) return undefined;
  if (last.at - before.at > 2_000) last = before;
  return (last.stored - start.stored) / ((last.at - start.at) / 1_000);
}

/**
 * Waits until the pump stored `target` records in all, telling how far it got every 15 s; fails when the count
 * has not moved for {@link STALL_MS}, with the pump's last counters (a store failing, a bridge not pulling).
 */
async function untilStored(health: () => Promise<PumpHealth>, target: number): Promise<void> {
  let last = -1;
  let movedAt = performance.now();
  let toldAt = performance.now();
  for (;;) {
    const now = await health().catch((error: Error) => ({ error: error.message }));
    const stored = "records_stored" in now ? now.records_stored : last;
    if (stored >= target) return;
    if (stored !== last) {
      last = stored;
      movedAt = performance.now();
    }
    if (performance.now() - toldAt > 15_000) {
      toldAt = performance.now();
      console.log(`  stored ${fmt(stored)} of ${fmt(target)}`);
    }
    if (performance.now() - movedAt > STALL_MS) {
      throw new Error(
        `no record stored for ${STALL_MS / 1_000} s (${fmt(stored)} of ${fmt(target)}); last /health: ${JSON.stringify(now)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** The lines every ingest bench prints about one run. */
export function describeRun(run: IngestRun): string[] {
  const t = run.pump.timing_ms;
  const n = run.pump.records_stored;
  const per100k = (ms: number) => ((ms / n) * 1e5).toFixed(0);
  const cpu100k = (seconds: number) => ((seconds * 1_000 * 1e5) / run.sent).toFixed(0);
  return [
    `[${run.signal}] records sent (acked by JetStream)    ${fmt(run.sent)} in ${fmt(run.batches)} batches (${fmt(run.wireBytes / run.batches)} B each)`,
    `[${run.signal}] ${`emit rate (${run.source} → JetStream)`.padEnd(37)}${fmt(run.emitRate)} records/s`,
    `[${run.signal}] end to end (emit start → all in R2)  ${fmt(run.e2eRate)} records/s over ${run.e2eSeconds.toFixed(1)} s`,
    `[${run.signal}] bridge rate while records waited     ${run.busyRate === undefined ? "n/a (too short)" : `${fmt(run.busyRate)} records/s`}`,
    `[${run.signal}] records lost                         ${fmt(run.sent - run.ids)} (distinct record_ids in Parquet: ${fmt(run.ids)}; rows ${fmt(run.rows)})`,
    `[${run.signal}] bytes per record                     Parquet ${run.parquetBytesPerRecord.toFixed(1)} B, wire CBOR ${(run.wireBytes / run.sent).toFixed(1)} B`,
    `[${run.signal}] mixer flushes / objects              ${fmt(run.pump.flushes)} / ${fmt(run.pump.objects_written)}`,
    `[${run.signal}] CPU per 100k records                 workerd (all threads) ${cpu100k(run.cpu.mixer)} ms, nats-server ${cpu100k(run.cpu.bus)} ms (a core of workerd: ${fmt(run.sent / Math.max(run.cpu.mixer, 0.01))} records/s)`,
    `[${run.signal}] mixer time per 100k records          decode ${per100k(t.decode)} ms, parquet ${per100k(t.encode)} ms, R2 put ${per100k(t.put)} ms, ack ${per100k(t.ack)} ms (total ${per100k(t.decode + t.encode + t.put + t.ack)} ms)`,
  ];
}

/** Raw JetStream publish of CBOR batches shaped like the client's, with a window of 256 acks: seconds taken. */
export async function rawPublishBaseline(mixer: TestMixer, batches: number, batchBytes: number) {
  const nc: NatsConnection = await mixer.connectBus();
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
  await nc.close();
  return seconds;
}

/** The NDJSON size of what Parquet files hold, to compare with their own size. */
export async function ndjsonBytes(paths: string[], work: string): Promise<number> {
  const ndjson = join(work, "all.ndjson");
  await nativeQuery(
    `COPY (SELECT * FROM read_parquet([${paths.map(sqlString).join(",")}])) TO ${sqlString(ndjson)} (FORMAT json)`,
  );
  return (await stat(ndjson)).size;
}
