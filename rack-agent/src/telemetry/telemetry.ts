import { join } from "node:path";
import { clearInterval, clearTimeout, setInterval, setTimeout } from "node:timers";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { uuidv7 } from "uuidv7";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { telemetrySubject } from "../../../shared/fluxmsg/subjects.ts";
import { ENTITY_NAME_ALLOWED } from "../../../shared/telemetry/entity-name.ts";
import {
  type LogRecord,
  logRecordSchema,
  type MetricRecord,
  type RecordOf,
  TELEMETRY_KINDS,
  type TelemetryKind,
} from "../../../shared/telemetry/records.ts";
import { batchFrameSize } from "./batch-frame.ts";
import { BatchPublisher } from "./batch-publisher.ts";
import { RecordBatch } from "./record-batch.ts";
import { type FinishedSpan, type Span, type SpanOptions, startSpan } from "./span.ts";
import { Spool } from "./spool.ts";
import { type DropHandler, type DropReason, emptyStats, type TelemetryStats } from "./stats.ts";

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
  /** `observability.enabled` (false under FLUXRIG_DISABLE_TELEMETRY): false makes every call a no-op. */
  enabled: boolean;
  /** `base.state_dir`; the spool lives in `<stateDir>/spool/telemetry`. */
  stateDir: string;
  /** Spool bound in bytes (`store.wal_max_size_mb`); the oldest batches are dropped past it. Default 512 MiB. */
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
  counter(name: string, value: number, labels?: Labels): Promise<void>;
  gauge(name: string, value: number, labels?: Labels): Promise<void>;
  histogram(name: string, value: number, labels?: Labels): Promise<void>;
  startSpan(name: string, options?: SpanOptions): Span;
  /** Publishes what is batched and waits until every record so far is acknowledged or spooled. */
  flush(): Promise<void>;
  /** Flushes and stops timers; later calls do nothing. The connection stays open. */
  close(): Promise<void>;
  stats(): TelemetryStats;
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
 * spooled to disk while the bus is down. With `enabled: false` it returns a client that does nothing.
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
  if (!options.enabled) return disabledTelemetry;
  const { entity } = options;
  if (!logRecordSchema.shape.entity_id.safeParse(entity.id).success) {
    throw new Error(`telemetry: entity.id must be a UUID, got "${entity.id}"`);
  }
  if (!logRecordSchema.shape.entity_name.safeParse(entity.name).success) {
    throw new Error(
      `telemetry: entity.name must be ${ENTITY_NAME_ALLOWED}, got ${JSON.stringify(entity.name)}`,
    );
  }
  const { warn } = options;
  const stats = emptyStats();
  const warnings = new DropWarnings(warn, options.dropWarningEveryMs ?? 10_000);
  const drop: DropHandler = (records, reason, detail) => {
    stats.recordsDropped += records;
    stats.dropped[reason] += records;
    warnings.dropped(records, reason, detail);
  };
  const spool = await Spool.open(
    join(options.stateDir, "spool", "telemetry"),
    options.spoolMaxBytes ?? 512 * 2 ** 20,
    drop,
  );
  const publisher = new BatchPublisher({
    nc: options.nc,
    js: jetstream(options.nc, { domain: options.domain }),
    spool,
    stats,
    drop,
    warn,
    window: options.window ?? 256,
    maxInFlightBytes: options.maxInFlightBytes ?? 16 * 2 ** 20,
    retryIntervalMs: options.retryIntervalMs ?? 1_000,
  });
  return new TelemetryClient(options, publisher, spool, stats, drop, warnings);
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
    private readonly warn: (message: string) => void,
    private readonly everyMs: number,
  ) {}

  dropped(records: number, reason: DropReason, detail: string): void {
    const now = Date.now();
    if (now - (this.#lastTold.get(reason) ?? Number.NEGATIVE_INFINITY) >= this.everyMs) {
      this.#lastTold.set(reason, now);
      this.warn(`telemetry: dropped ${records} record(s), ${reason}: ${detail}`);
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
      this.warn(`telemetry: dropped ${records} more record(s) in ${times} drop(s), ${reason}: ${detail}`);
    }
    this.#untold.clear();
  }
}

class TelemetryClient implements Telemetry {
  readonly #batches = Object.fromEntries(
    TELEMETRY_KINDS.map((kind) => [kind, new RecordBatch(kind)]),
  ) as Record<TelemetryKind, RecordBatch>;
  readonly #subjects: Record<TelemetryKind, string>;
  readonly #options: TelemetryOptions;
  readonly #publisher: BatchPublisher;
  readonly #spool: Spool;
  readonly #stats: TelemetryStats;
  readonly #drop: DropHandler;
  readonly #selfMetrics: ReturnType<typeof setInterval>;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    options: TelemetryOptions,
    publisher: BatchPublisher,
    spool: Spool,
    stats: TelemetryStats,
    drop: DropHandler,
    private readonly warnings: DropWarnings,
  ) {
    this.#options = options;
    this.#publisher = publisher;
    this.#spool = spool;
    this.#stats = stats;
    this.#drop = drop;
    this.#subjects = Object.fromEntries(
      TELEMETRY_KINDS.map((kind) => [kind, telemetrySubject(kind, options.entity.name)]),
    ) as Record<TelemetryKind, string>;
    this.#selfMetrics = setInterval(() => this.#reportSelf(), options.selfMetricsIntervalMs ?? 10_000);
    this.#selfMetrics.unref();
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
    return startSpan(name, options, this.#options.samplingRate, this.#recordSpan);
  }

  /** One function for every span (not a closure per span: gears start one per message). */
  readonly #recordSpan = ({ ts, flux_id, ...span }: FinishedSpan) => this.#emit("traces", ts, flux_id, span);

  async flush(): Promise<void> {
    this.#sealAll();
    await this.#publisher.flush();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#selfMetrics);
    this.#sealAll();
    await this.#publisher.close();
    this.warnings.flush();
  }

  stats(): TelemetryStats {
    return {
      ...this.#stats,
      dropped: { ...this.#stats.dropped },
      spool: { batches: this.#spool.batches, bytes: this.#spool.bytes },
    };
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
    if (this.#closed) return RESOLVED;
    const { id, name } = this.#options.entity;
    // Common fields written out and the kind's spread last: spreading an object first makes cbor-x ~3x slower.
    const record = { record_id: uuidv7(), ts, entity_id: id, entity_name: name, flux_id: fluxId, ...fields };
    const encoded = cbor.encode(record);
    const limit = this.#publisher.payloadLimit(this.#options.maxPayloadSize);
    if (batchFrameSize(kind, 1) + encoded.length > limit) {
      this.#drop(
        1,
        "too_large",
        `a ${kind} record of ${encoded.length} bytes cannot fit a message of ${limit} bytes ` +
          "(rack.max_payload_size, or the server's max_payload, less headers)",
      );
      return RESOLVED;
    }
    const batch = this.#batches[kind];
    const accepted = batch.fits(encoded.length, limit)
      ? RESOLVED
      : this.#publisher.submit(batch.seal(this.#subjects[kind]));
    batch.add(encoded);
    if (this.#flushTimer === undefined) {
      this.#flushTimer = setTimeout(() => this.#sealAll(), this.#options.flushIntervalMs ?? 200);
      this.#flushTimer.unref();
    }
    return accepted;
  }

  /** Hands every non-empty batch to the publisher; the publisher tracks them for flush(). */
  #sealAll(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    for (const kind of TELEMETRY_KINDS) {
      const batch = this.#batches[kind];
      if (batch.count > 0) void this.#publisher.submit(batch.seal(this.#subjects[kind]));
    }
  }

  #reportSelf(): void {
    const snapshot = this.stats();
    for (const [name, read] of Object.entries(SELF_COUNTERS)) {
      void this.counter(`fluxrig.telemetry.${name}`, read(snapshot));
    }
    for (const [name, read] of Object.entries(SELF_GAUGES)) {
      void this.gauge(`fluxrig.telemetry.${name}`, read(snapshot));
    }
  }
}

/** `enabled: false`: nothing is batched, published or spooled; spans still get ids so context propagates. */
const disabledTelemetry: Telemetry = {
  log: () => RESOLVED,
  counter: () => RESOLVED,
  gauge: () => RESOLVED,
  histogram: () => RESOLVED,
  startSpan: (name, options = {}) => startSpan(name, options, 0, () => RESOLVED),
  flush: () => RESOLVED,
  close: () => RESOLVED,
  stats: emptyStats,
};
