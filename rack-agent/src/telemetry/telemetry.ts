import { join } from "node:path";
import { clearInterval, clearTimeout, setImmediate, setInterval, setTimeout } from "node:timers";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { journalSubject, telemetrySubject } from "../../../shared/fluxmsg/subjects.ts";
import { JOURNAL_KIND } from "../../../shared/journal/record.ts";
import { otlpSource } from "../../../shared/otlp/otlp-encode.ts";
import type { OtlpTarget } from "../../../shared/otlp/otlp-target.ts";
import { uuidv7 } from "../../../shared/random/uuidv7.ts";
import type { BatchKind } from "../../../shared/telemetry/batch.ts";
import { CounterDeltas } from "../../../shared/telemetry/counter-deltas.ts";
import { ENTITY_NAME_ALLOWED } from "../../../shared/telemetry/entity-name.ts";
import {
  type LogRecord,
  logRecordSchema,
  type MetricRecord,
  type RecordOf,
  TELEMETRY_KINDS,
  type TelemetryKind,
} from "../../../shared/telemetry/records.ts";
import type { JournalEntry } from "../journal/journal-record.ts";
import { LocalMessages } from "../otlp/local-messages.ts";
import { OtlpExporter } from "../otlp/otlp-exporter.ts";
import { otlpTransport } from "../otlp/otlp-transport.ts";
import { batchFrameSize } from "./batch-frame.ts";
import { BatchPublisher } from "./batch-publisher.ts";
import { RecordBatch } from "./record-batch.ts";
import { type FinishedSpan, type Span, type SpanOptions, startSpan } from "./span.ts";
import { Spool } from "./spool.ts";
import { type DropHandler, type DropReason, emptyStats, type TelemetryStats } from "./stats.ts";
import { encodeTransient } from "./transient-cbor.ts";

export interface TelemetryOptions {
  /** An open Snake connection; the client never closes it. */
  nc: NatsConnection;
  /** JetStream domain (`snake.domain`). */
  domain: string;
  /** Who emits: the rack's entity id (UUID) and name (`base.name`). */
  entity: { id: string; name: string };
  /** `rack.max_payload_size`: no message exceeds it (nor the server's `max_payload`), headers included. */
  maxPayloadSize: number;
  /** `observability.sampling_rate`, applied per trace. */
  samplingRate: number;
  /**
   * `observability.enabled` (false under FLUXRIG_DISABLE_TELEMETRY): false makes every telemetry call a
   * no-op. The journal is business data, not telemetry: it is published whatever this says.
   */
  enabled: boolean;
  /** `base.state_dir`; the spools live in `<stateDir>/spool/telemetry` and `<stateDir>/spool/journal`. */
  stateDir: string;
  /**
   * Spool bound in bytes (`store.wal_max_size_mb`), for each of the two spools; the oldest batches are dropped
   * past it. Default 512 MiB.
   */
  spoolMaxBytes?: number;
  /** A batch that is not full is published after this long. Default 200 ms. */
  flushIntervalMs?: number;
  /** Publishes awaiting an ack. Default 256. */
  window?: number;
  /** Bytes awaiting an ack; also bounds what may queue for the window and for the spool. Default 16 MiB. */
  maxInFlightBytes?: number;
  /** Pause before retrying the spool after a failed publish (`snake.reconnect_wait`). Default 1 s. */
  retryIntervalMs?: number;
  /** How often the pipeline reports its own counters as `fluxrig.telemetry.*` metrics. Default 10 s. */
  selfMetricsIntervalMs?: number;
  /**
   * Where the client says what went wrong (dropped records, failing publishes); it must not log back into this
   * client. Drops are told at once, then at most once per reason every `dropWarningEveryMs` with their sum.
   */
  warn: (message: string) => void;
  /** Default 10 s. */
  dropWarningEveryMs?: number;
  /**
   * `observability.tier = "otlp"`: traces, logs and metrics are exported to this collector instead of Snake (the
   * tier names the telemetry backend), spooled to `<stateDir>/spool/otlp` while it is unreachable. Journal
   * records still go over Snake: they are business data, not telemetry.
   */
  otlp?: OtlpTarget | undefined;
  /** `[observability.otlp.messages]`: journal records are also kept as Parquet under this folder. */
  localMessagesDir?: string | undefined;
}

type Attributes = Record<string, unknown>;
/** A record's fields other than those every record shares. */
type OwnFields<K extends TelemetryKind> = Omit<
  RecordOf<K>,
  "record_id" | "ts" | "entity_id" | "entity_name" | "flux_id"
>;
type Labels = Record<string, string>;

/**
 * The rack's telemetry client. Every emitting call resolves at once unless the ack window is full, in which
 * case it resolves when there is room again: await it to slow down with the bus instead of piling up memory.
 */
export interface Telemetry {
  /** `ts` (epoch ms) defaults to now; a line logged before telemetry existed keeps its own time. */
  log(
    level: LogRecord["level"],
    message: string,
    attributes?: Attributes,
    fluxId?: string | null,
    ts?: number,
  ): Promise<void>;
  /** A counter's point: `value` is what it counted since its previous point (counter-deltas.ts). */
  counter(name: string, value: number, labels?: Labels): Promise<void>;
  gauge(name: string, value: number, labels?: Labels): Promise<void>;
  histogram(name: string, value: number, labels?: Labels): Promise<void>;
  startSpan(name: string, options?: SpanOptions): Span;
  /**
   * A journal record (a business message as it crossed a gear), to `flux.journal.<entity>`: batched, published
   * and spooled as telemetry is, but through its own spool, never sampled, and even with `enabled: false`.
   * With `durable`, it resolves only once the record is acknowledged by JetStream or fsynced to the spool, and
   * rejects if it was dropped (or the client is closed); its batch then goes out at the next turn of the
   * event loop instead of after `flushIntervalMs`.
   */
  journal(entry: JournalEntry, options?: { durable?: boolean }): Promise<void>;
  /** Publishes what is batched and waits until every record so far is acknowledged or spooled. */
  flush(): Promise<void>;
  /** Flushes and stops timers; later calls do nothing. The connection stays open. */
  close(): Promise<void>;
  stats(): TelemetryStats;
  /** The journal pipeline's counters (its own publisher and spool). */
  journalStats(): TelemetryStats;
  /** `observability.sampling_rate` for traces started from now on (a config reloaded on SIGHUP). */
  setSamplingRate(rate: number): void;
}

const RESOLVED = Promise.resolve();

/** The pipeline's own counters, published as `fluxrig.telemetry.<name>` (cumulative, so a lost report loses nothing). */
const SELF_COUNTERS = {
  records_sent: (s: TelemetryStats) => s.recordsSent,
  batches_sent: (s: TelemetryStats) => s.batchesSent,
  bytes_sent: (s: TelemetryStats) => s.bytesSent,
  duplicates: (s: TelemetryStats) => s.duplicates,
  publish_errors: (s: TelemetryStats) => s.publishErrors,
  records_spooled: (s: TelemetryStats) => s.recordsSpooled,
  records_dropped: (s: TelemetryStats) => s.recordsDropped,
  /** Of those, the oldest spooled records dropped to keep the spool within `store.wal_max_size_mb`. */
  spool_records_dropped: (s: TelemetryStats) => s.dropped.spool_full,
};
const SELF_GAUGES = {
  spool_batches: (s: TelemetryStats) => s.spool.batches,
  spool_bytes: (s: TelemetryStats) => s.spool.bytes,
};

/**
 * Creates the rack's telemetry client: records are CBOR-encoded into batches per kind (bounded by
 * `maxPayloadSize`), published to `flux.telemetry.<kind>.<entity>` with a window of acks in flight, and
 * spooled to disk while the bus is down. With `enabled: false` telemetry calls do nothing; journal records
 * (`flux.journal.<entity>`, their own spool) are published either way.
 *
 * @example
 * const telemetry = await createTelemetry({
 *   nc, domain: config.snake.domain, entity: { id: rackId, name: config.base.name },
 *   maxPayloadSize: config.rack.max_payload_size, samplingRate: config.observability.sampling_rate,
 *   enabled: config.observability.enabled, stateDir: config.base.state_dir,
 *   retryIntervalMs: config.snake.reconnect_wait,
 * });
 * await telemetry.log("info", "gear started", { gear: "parser" });
 * const span = telemetry.startSpan("gear.process", { fluxId });
 * await span.end({ status: "ok" });
 * await telemetry.close();
 */
export async function createTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const { entity } = options;
  if (!logRecordSchema.shape.entity_id.safeParse(entity.id).success) {
    throw new Error(`telemetry: entity.id must be a UUID, got "${entity.id}"`);
  }
  if (!logRecordSchema.shape.entity_name.safeParse(entity.name).success) {
    throw new Error(
      `telemetry: entity.name must be ${ENTITY_NAME_ALLOWED}, got ${JSON.stringify(entity.name)}`,
    );
  }
  const js = jetstream(options.nc, { domain: options.domain });
  const snake = (spool: Spool, stats: TelemetryStats, drop: DropHandler) =>
    new BatchPublisher({
      nc: options.nc,
      js,
      spool,
      stats,
      drop,
      warn: options.warn,
      window: options.window ?? 256,
      maxInFlightBytes: options.maxInFlightBytes ?? 16 * 2 ** 20,
      retryIntervalMs: options.retryIntervalMs ?? 1_000,
    });
  const { otlp } = options;
  const journal = await openPipeline(options, "journal", snake);
  const telemetry = !options.enabled
    ? undefined
    : otlp
      ? await openPipeline(options, "otlp", (spool, stats, drop) =>
          otlpExporter(options, otlp, spool, stats, drop),
        )
      : await openPipeline(options, "telemetry", snake);
  return new TelemetryClient(options, telemetry, journal);
}

function otlpExporter(
  options: TelemetryOptions,
  target: OtlpTarget,
  spool: Spool,
  stats: TelemetryStats,
  drop: DropHandler,
): OtlpExporter {
  return new OtlpExporter({
    transport: otlpTransport(target),
    source: otlpSource(options.entity, "fluxrig-rack"),
    spool,
    stats,
    drop,
    warn: options.warn,
    retryIntervalMs: options.retryIntervalMs ?? 1_000,
    flushIntervalMs: options.flushIntervalMs ?? 200,
    maxQueuedBytes: options.maxInFlightBytes ?? 16 * 2 ** 20,
  });
}

/**
 * A publisher and its spool: one for telemetry (Snake, or OTLP with the OTLP tier), one for the journal, so
 * neither's backlog evicts the other's.
 */
interface Pipeline<P extends BatchPublisher | OtlpExporter = BatchPublisher> {
  publisher: P;
  spool: Spool;
  stats: TelemetryStats;
  drop: DropHandler;
  warnings: DropWarnings;
}

async function openPipeline<P extends BatchPublisher | OtlpExporter>(
  options: TelemetryOptions,
  name: "telemetry" | "journal" | "otlp",
  open: (spool: Spool, stats: TelemetryStats, drop: DropHandler) => P,
): Promise<Pipeline<P>> {
  const { warn } = options;
  const stats = emptyStats();
  const warnings = new DropWarnings(name, warn, options.dropWarningEveryMs ?? 10_000);
  const drop: DropHandler = (records, reason, detail) => {
    stats.recordsDropped += records;
    stats.dropped[reason] += records;
    warnings.dropped(records, reason, detail);
  };
  const spool = await Spool.open(
    join(options.stateDir, "spool", name),
    options.spoolMaxBytes ?? 512 * 2 ** 20,
    drop,
  );
  return { publisher: open(spool, stats, drop), spool, stats, drop, warnings };
}

/**
 * Drops are counted at once but told at most once per reason every `everyMs`, with their sum: a full spool
 * drops a batch per flush, and a line per batch would bury everything else the rack says.
 */
class DropWarnings {
  readonly #lastTold = new Map<DropReason, number>();
  readonly #untold = new Map<DropReason, { records: number; times: number; detail: string }>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly name: string,
    private readonly warn: (message: string) => void,
    private readonly everyMs: number,
  ) {}

  dropped(records: number, reason: DropReason, detail: string): void {
    const now = Date.now();
    if (now - (this.#lastTold.get(reason) ?? Number.NEGATIVE_INFINITY) >= this.everyMs) {
      this.#lastTold.set(reason, now);
      this.warn(`${this.name}: dropped ${records} record(s), ${reason}: ${detail}`);
      return;
    }
    const untold = this.#untold.get(reason) ?? { records: 0, times: 0, detail };
    this.#untold.set(reason, { records: untold.records + records, times: untold.times + 1, detail });
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.everyMs);
      this.#timer.unref();
    }
  }

  /** Tells what was held back now (also at close, so no drop goes untold). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const [reason, { records, times, detail }] of this.#untold) {
      this.#lastTold.set(reason, Date.now());
      this.warn(`${this.name}: dropped ${records} more record(s) in ${times} drop(s), ${reason}: ${detail}`);
    }
    this.#untold.clear();
  }
}

/** Tells, at most once a minute with a count, that journal records were kept without their `raw_msg`. */
class RawOmitted {
  #count = 0;
  #toldAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly warn: (message: string) => void) {}

  told(fluxId: string, limit: number): void {
    this.#count++;
    if (Date.now() - this.#toldAt < 60_000) return;
    this.#toldAt = Date.now();
    this.warn(
      `journal: message ${fluxId} does not fit a journal record of at most ${limit} bytes; ` +
        `journaled without raw_msg (${this.#count} so far)`,
    );
  }
}

class TelemetryClient implements Telemetry {
  /** One batch per kind, each naming the rack once (its records carry no entity fields on the bus). */
  readonly #batches: Record<BatchKind, RecordBatch>;
  readonly #subjects: Record<BatchKind, string>;
  readonly #options: TelemetryOptions;
  /** Undefined with `enabled: false`: telemetry calls do nothing, the journal still goes out. */
  readonly #telemetry: Pipeline<BatchPublisher | OtlpExporter> | undefined;
  readonly #journal: Pipeline;
  #samplingRate: number;
  /** `[observability.otlp.messages]`: journal records kept as local Parquet too. */
  readonly #localMessages: LocalMessages | undefined;
  readonly #selfMetrics: ReturnType<typeof setInterval> | undefined;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** What the pipeline's own counters (running totals) had reached at the last self report. */
  readonly #selfReported = new CounterDeltas();
  readonly #rawOmitted = new RawOmitted((message) => this.#options.warn(message));

  constructor(
    options: TelemetryOptions,
    telemetry: Pipeline<BatchPublisher | OtlpExporter> | undefined,
    journal: Pipeline,
  ) {
    this.#options = options;
    this.#batches = Object.fromEntries(
      [...TELEMETRY_KINDS, JOURNAL_KIND].map((kind) => [kind, new RecordBatch(kind, options.entity)]),
    ) as Record<BatchKind, RecordBatch>;
    this.#localMessages =
      options.localMessagesDir === undefined
        ? undefined
        : new LocalMessages({ dir: options.localMessagesDir, warn: options.warn });
    this.#telemetry = telemetry;
    this.#journal = journal;
    // Disabled: spans still get ids so context propagates, but none is sampled, so none is recorded.
    this.#samplingRate = telemetry ? options.samplingRate : 0;
    this.#subjects = {
      ...(Object.fromEntries(
        TELEMETRY_KINDS.map((kind) => [kind, telemetrySubject(kind, options.entity.name)]),
      ) as Record<TelemetryKind, string>),
      [JOURNAL_KIND]: journalSubject(options.entity.name),
    };
    if (telemetry) {
      this.#selfMetrics = setInterval(() => this.#reportSelf(), options.selfMetricsIntervalMs ?? 10_000);
      this.#selfMetrics.unref();
    }
  }

  log(
    level: LogRecord["level"],
    message: string,
    attributes: Attributes = {},
    fluxId: string | null = null,
    ts = Date.now(),
  ) {
    return this.#emit("logs", ts, fluxId, { level, message, attributes });
  }

  counter(name: string, value: number, labels?: Labels) {
    return this.#metric("counter", name, value, labels);
  }

  gauge(name: string, value: number, labels?: Labels) {
    return this.#metric("gauge", name, value, labels);
  }

  histogram(name: string, value: number, labels?: Labels) {
    return this.#metric("histogram", name, value, labels);
  }

  startSpan(name: string, options: SpanOptions = {}): Span {
    return startSpan(name, options, this.#samplingRate, this.#recordSpan);
  }

  /** One function for every span (not a closure per span: gears start one per message). */
  readonly #recordSpan = ({ ts, flux_id, ...span }: FinishedSpan) => this.#emit("traces", ts, flux_id, span);

  journal(entry: JournalEntry, options: { durable?: boolean } = {}): Promise<void> {
    if (this.#closed) {
      return options.durable
        ? Promise.reject(new Error("journal: the telemetry client is closed"))
        : RESOLVED;
    }
    const record = { record_id: uuidv7(), ...entry };
    if (this.#localMessages) {
      const { id, name } = this.#options.entity;
      this.#localMessages.add({ record_id: record.record_id, entity_id: id, entity_name: name, ...entry });
    }
    let encoded = encodeTransient(record);
    const limit = this.#journal.publisher.payloadLimit(this.#options.maxPayloadSize);
    const frame = batchFrameSize(JOURNAL_KIND, 1, this.#options.entity);
    if (entry.raw_msg !== null && frame + encoded.length > limit) {
      // A message too big for the bus (a dead letter over max_payload_size) is still journaled, without its body.
      encoded = encodeTransient({ ...record, raw_msg: null });
      this.#rawOmitted.told(entry.flux_id, limit);
    }
    return this.#add(JOURNAL_KIND, encoded, this.#journal, options.durable);
  }

  async flush(): Promise<void> {
    this.#sealAll();
    await Promise.all([
      this.#telemetry?.publisher.flush(),
      this.#journal.publisher.flush(),
      this.#localMessages?.flush(),
    ]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#selfMetrics);
    this.#sealAll();
    await Promise.all([
      this.#telemetry?.publisher.close(),
      this.#journal.publisher.close(),
      this.#localMessages?.close(),
    ]);
    this.#telemetry?.warnings.flush();
    this.#journal.warnings.flush();
  }

  stats(): TelemetryStats {
    return this.#telemetry ? snapshot(this.#telemetry) : emptyStats();
  }

  setSamplingRate(rate: number): void {
    if (this.#telemetry) this.#samplingRate = rate;
  }

  journalStats(): TelemetryStats {
    return snapshot(this.#journal);
  }

  #metric(type: MetricRecord["type"], name: string, value: number, labels: Labels = {}) {
    return this.#emit("metrics", Date.now(), null, { name, type, value, labels });
  }

  #emit<K extends TelemetryKind>(
    kind: K,
    ts: number,
    fluxId: string | null,
    fields: OwnFields<K>,
  ): Promise<void> {
    if (this.#closed || !this.#telemetry) return RESOLVED;
    const { publisher } = this.#telemetry;
    // Common fields written out and the kind's spread last: spreading an object first makes cbor-x ~3x slower.
    if (publisher instanceof OtlpExporter) {
      const { id, name } = this.#options.entity;
      const record = {
        record_id: uuidv7(),
        ts,
        entity_id: id,
        entity_name: name,
        flux_id: fluxId,
        ...fields,
      };
      return publisher.add(kind, record as RecordOf<K>);
    }
    // On the bus the batch names the entity once (shared/telemetry/batch.ts).
    const record = { record_id: uuidv7(), ts, flux_id: fluxId, ...fields };
    return this.#add(kind, encodeTransient(record), this.#telemetry as Pipeline);
  }

  /**
   * Adds one encoded record to its kind's batch, handing the batch to the publisher first if it is full.
   * Resolves when the publisher has room (backpressure), or with `durable` when the record is durable.
   * `encoded` is encodeTransient()'s: it is copied into the batch before anything else can encode.
   */
  #add(kind: BatchKind, encoded: Uint8Array, pipeline: Pipeline, durable = false): Promise<void> {
    const limit = pipeline.publisher.payloadLimit(this.#options.maxPayloadSize);
    if (batchFrameSize(kind, 1, this.#options.entity) + encoded.length > limit) {
      const detail =
        `a ${kind} record of ${encoded.length} bytes cannot fit a message of ${limit} bytes ` +
        "(rack.max_payload_size, or the server's max_payload, less headers)";
      pipeline.drop(1, "too_large", detail);
      return durable ? Promise.reject(new Error(`dropped (too_large): ${detail}`)) : RESOLVED;
    }
    const batch = this.#batches[kind];
    const full = batch.fits(encoded.length, limit) ? undefined : batch.seal(this.#subjects[kind]);
    batch.add(encoded);
    const accepted = full ? pipeline.publisher.submit(full) : RESOLVED;
    if (this.#flushTimer === undefined) {
      this.#flushTimer = setTimeout(() => this.#sealAll(), this.#options.flushIntervalMs ?? 200);
      this.#flushTimer.unref();
    }
    if (!durable) return accepted;
    // Someone waits on this batch: send it once this turn's records are in, not a flush interval later.
    if (!batch.awaited) setImmediate(() => this.#seal(kind, pipeline));
    return batch.durable();
  }

  /** Hands every non-empty batch to its publisher; the publishers track them for flush(). */
  #sealAll(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const telemetry = this.#telemetry;
    if (telemetry?.publisher instanceof BatchPublisher) {
      for (const kind of TELEMETRY_KINDS) this.#seal(kind, telemetry as Pipeline);
    }
    this.#seal(JOURNAL_KIND, this.#journal);
  }

  #seal(kind: BatchKind, pipeline: Pipeline | undefined): void {
    const batch = this.#batches[kind];
    if (pipeline && batch.count > 0) void pipeline.publisher.submit(batch.seal(this.#subjects[kind]));
  }

  #reportSelf(): void {
    const snapshot = this.stats();
    for (const [name, read] of Object.entries(SELF_COUNTERS)) {
      void this.counter(`fluxrig.telemetry.${name}`, this.#selfReported.increase(name, read(snapshot)));
    }
    for (const [name, read] of Object.entries(SELF_GAUGES)) {
      void this.gauge(`fluxrig.telemetry.${name}`, read(snapshot));
    }
  }
}

function snapshot({ stats, spool }: Pipeline<BatchPublisher | OtlpExporter>): TelemetryStats {
  return {
    ...stats,
    dropped: { ...stats.dropped },
    spool: { batches: spool.batches, bytes: spool.bytes },
  };
}
