import { DurableObject } from "cloudflare:workers";
import { AckPolicy, type Consumer, type JsMsg, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type NatsConnection, nanos, wsconnect } from "@nats-io/nats-core";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { TELEMETRY_CONSUMER, TELEMETRY_FILTER, TELEMETRY_STREAM } from "../../../shared/fluxmsg/subjects.ts";
import { ensureStreams } from "../../../shared/snake/streams.ts";
import { mixerConfig } from "../config.ts";
import { type ControlPlane, startControlPlane } from "../control/control-plane.ts";
import type { MixerEnv } from "../env.ts";
import { type DeadLetter, deadLetterSink } from "../ingest/dead-letter.ts";
import { decodeTelemetryBatch } from "../ingest/decode-batch.ts";
import { flushBatches } from "../ingest/flush-batches.ts";
import { PendingBatches } from "../ingest/pending-batches.ts";
import { MAX_ROWS_PER_FILE, storeTelemetryRecords } from "../ingest/store-records.ts";
import { mixerId } from "../registry/mixer-identity.ts";
import { applyRetention } from "../retention/apply-retention.ts";
import { activateStartupScenario } from "../scenarios/startup.ts";
import { BridgeMetricsSampler } from "../self/bridge-metrics.ts";
import { SelfTelemetry, type SelfTelemetryBatch } from "../self/self-telemetry.ts";
import type { BridgeStatus } from "./bridge-status.ts";
import { PartHealth } from "./part-health.ts";

/**
 * Bounds on one flush, for the isolate's 128 MB: a flush holds at most one object's worth of records, and one
 * pull at most this many bytes of CBOR.
 */
const MAX_RECORDS_PER_FLUSH = MAX_ROWS_PER_FILE;
const MAX_FETCH_BYTES = 8 * 1024 * 1024;

/**
 * How often the mixer's own telemetry is written: rarely enough not to litter the store with tiny objects,
 * often enough that a crash loses little of it (this, plus the few seconds an isolate holds API counters).
 */
const SELF_FLUSH_MS = 10_000;

/** Test-only fault: hang after the R2 write and before the ack, so a test can kill the mixer right there. */
const FAULT_HANG_BEFORE_ACK = "MIXER_FAULT_HANG_BEFORE_ACK";

/**
 * Holds the mixer's NATS connection (Workers cannot keep one outside a Durable Object), pulls telemetry from
 * a durable JetStream consumer, buffers up to `ingest.buffer_size` messages, and every
 * `ingest.flush_interval` (or when the buffer is full) writes Parquet to R2 and only then acks. A crash
 * between write and ack redelivers the messages: duplicates, never loss (queries dedupe by record_id).
 * An alarm every flush interval keeps it alive, reconnected and pumping.
 */
export class SnakeBridge extends DurableObject<MixerEnv> {
  private nc: NatsConnection | undefined;
  /** Enrollment and heartbeats on the current connection. */
  private control: ControlPlane | undefined;
  private pumping: Promise<void> | undefined;
  /** `mixer.startup_scenario`, activated once per start of the bridge, when it first reaches the bus. */
  private startupScenario: Promise<unknown> | undefined;
  /** Settled once the alarm is known to be set; alarm() keeps it set from then on. */
  private alarmArmed: Promise<void> | undefined;
  private pending = new PendingBatches();
  /** A moving average of telemetry message sizes, to keep one pull near MAX_FETCH_BYTES. */
  private averageMessageBytes = 64 * 1024;
  private lastFlushAt = 0;
  private stats = {
    recordsStored: 0,
    objectsWritten: 0,
    bytesWritten: 0,
    flushes: 0,
    timing: { decodeMs: 0, encodeMs: 0, putMs: 0, ackMs: 0 },
    messagesDeadLettered: 0,
    recordsDeadLettered: 0,
    lastError: null as string | null,
  };
  /** Failures counted and kept for /health; the bus counts as down from the start until first reached. */
  private health = {
    store: new PartHealth(),
    bus: new PartHealth(),
    busDownSince: Date.now() as number | null,
  };
  /** The mixer's own logs and metrics, written as entity `base.name` every {@link SELF_FLUSH_MS}. */
  private self = new SelfTelemetry(() => this.config.logging.level);
  private lastSelfFlushAt = Date.now();
  private metricsSampler = new BridgeMetricsSampler();

  private get config() {
    return mixerConfig(this.env).config;
  }

  /**
   * Starts the bridge if it is not running and reports its state. Counters only after the first call (which
   * arms the alarm): `/health` must answer at once even while the control plane works off a flood.
   */
  async status(): Promise<BridgeStatus> {
    this.alarmArmed ??= this.ensureAlarm().catch((error: unknown) => {
      this.alarmArmed = undefined;
      throw error;
    });
    await this.alarmArmed;
    this.ensurePumping();
    const connected = this.nc !== undefined && !this.nc.isClosed();
    if (connected) this.health.busDownSince = null;
    else this.health.busDownSince ??= Date.now();
    return {
      connected,
      url: this.config.snake.websocket_url,
      lastFlushAt: this.lastFlushAt ? new Date(this.lastFlushAt).toISOString() : null,
      pendingRecords: this.pending.recordCount,
      pendingMessages: this.pending.messageCount,
      ...this.stats,
      control: this.control?.stats() ?? null,
      health: {
        store: this.health.store.view(),
        bus: this.health.bus.view(),
        busDownSince:
          this.health.busDownSince === null ? null : new Date(this.health.busDownSince).toISOString(),
        api: { ...this.self.apiAnswers },
      },
      selfTelemetry: { held: this.self.size, dropped: this.self.dropped },
    };
  }

  /**
   * Takes a batch of the mixer's own telemetry from a Worker isolate (API counters, log lines); it is
   * written with the bridge's next flush of its own records. Bounded in the isolate and here.
   */
  async acceptSelfTelemetry(batch: SelfTelemetryBatch): Promise<void> {
    this.self.accept(batch);
  }

  /**
   * Writes the mixer's own logs and metrics to the store, as entity `base.name` with the mixer id, unless
   * `observability.enabled` is off. The alarm calls it every {@link SELF_FLUSH_MS}; what fails to be stored
   * is held for the next time (bounded), and counts as a store failure.
   */
  async flushSelfTelemetry(): Promise<void> {
    this.lastSelfFlushAt = Date.now();
    const { observability, base } = this.config;
    if (!observability.enabled) return;
    this.metricsSampler.sample(this.self, { ...this.stats, control: this.control?.stats() ?? null });
    await this.self.flush({ id: await mixerId(this.env.REGISTRY), name: base.name }, (kind, records) =>
      this.health.store.watch(
        storeTelemetryRecords(this.env.TELEMETRY, kind, records, observability.embedded.storage),
      ),
    );
  }

  /**
   * Delivers a rack's current passport over NATS after `delayMs` (`enrollment.push_delay` for a newly
   * adopted rack). A rack that misses it (offline, bridge reconnecting) gets it with its next heartbeat.
   */
  async deliverPassport(rackId: string, delayMs: number): Promise<void> {
    this.deliverLater("passport", rackId, delayMs);
  }

  /**
   * Delivers a rack's signed scenario part over NATS after `delayMs`; a rack that misses it gets it again
   * when a heartbeat shows it running another hash.
   */
  async deliverScenario(rackId: string, delayMs: number): Promise<void> {
    this.deliverLater("scenario", rackId, delayMs);
  }

  private deliverLater(what: "passport" | "scenario", rackId: string, delayMs: number): void {
    this.ensurePumping();
    setTimeout(() => {
      if (!this.control)
        this.self.log("warn", `snake bridge: not connected; rack ${rackId} gets its ${what} later`);
      const deliver = what === "passport" ? this.control?.deliverPassport : this.control?.deliverScenario;
      deliver?.(rackId).catch((error: unknown) => {
        this.self.log(
          "error",
          `snake bridge: delivering the ${what} of rack ${rackId}: ${(error as Error).message}`,
        );
      });
    }, delayMs);
  }

  override async alarm(): Promise<void> {
    this.ensurePumping();
    await this.ctx.storage.setAlarm(Date.now() + this.config.ingest.flush_interval);
    if (Date.now() - this.lastSelfFlushAt >= SELF_FLUSH_MS) await this.flushSelfTelemetry();
    await this.retentionIfDue();
  }

  /** Applies `[observability.embedded.rotation]` once every `check_interval`. */
  private async retentionIfDue(): Promise<void> {
    const rotation = this.config.observability.embedded.rotation;
    const last = (await this.ctx.storage.get<number>("retention:last")) ?? 0;
    if (Date.now() - last < rotation.check_interval) return;
    await this.ctx.storage.put("retention:last", Date.now());
    await applyRetention(this.env.TELEMETRY, rotation, Date.now()).catch((error: unknown) => {
      this.self.log("error", `retention: ${(error as Error).message}`);
    });
  }

  private async ensureAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 100);
  }

  private ensurePumping(): void {
    this.pumping ??= this.pump()
      .catch((error: unknown) => {
        this.stats.lastError = `${new Date().toISOString()} ${(error as Error).message}`;
        this.health.bus.failed(error);
        this.self.log("error", `snake bridge: ${(error as Error).message}`);
      })
      .finally(() => {
        this.pumping = undefined;
      });
  }

  private async openConsumer(): Promise<Consumer> {
    const { snake, ingest } = this.config;
    if (!this.nc || this.nc.isClosed()) {
      this.nc = await wsconnect({
        servers: snake.websocket_url,
        name: "fluxrig-mixer-bridge",
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
        timeout: 10_000,
      }).catch((error: unknown) => {
        throw new Error(
          `cannot reach NATS at ${snake.websocket_url} (snake.websocket_url): ${(error as Error).message}`,
        );
      });
      const control = startControlPlane(this.nc, this.env);
      this.control = control;
      this.startupScenario ??= activateStartupScenario(this.env, (rackId) => control.deliverScenario(rackId))
        .then((outcome) => outcome && console.log(`scenarios: ${outcome}`))
        .catch((error: Error) => console.error(`scenarios: mixer.startup_scenario failed: ${error.message}`));
    }
    const jsm = await jetstreamManager(this.nc, { domain: snake.domain });
    await ensureStreams(jsm, snake);
    // Long enough to survive a slow flush; working() pings extend it while a write is under way.
    const ackWait = nanos(2 * ingest.flush_interval + 5_000);
    const consumer = {
      durable_name: TELEMETRY_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      filter_subject: TELEMETRY_FILTER,
      ack_wait: ackWait,
      max_ack_pending: Math.max(ingest.buffer_size * 4, 1_000),
    };
    // Adding an existing durable with other settings fails; then update it, and say both causes if that fails.
    await jsm.consumers.add(TELEMETRY_STREAM, consumer).catch(async (addError: Error) => {
      await jsm.consumers
        .update(TELEMETRY_STREAM, TELEMETRY_CONSUMER, consumer)
        .catch((updateError: Error) => {
          throw new Error(
            `cannot create the ${TELEMETRY_CONSUMER} consumer on ${TELEMETRY_STREAM} (${addError.message}) nor update it (${updateError.message})`,
          );
        });
    });
    return jetstream(this.nc, { domain: snake.domain }).consumers.get(TELEMETRY_STREAM, TELEMETRY_CONSUMER);
  }

  private async pump(): Promise<void> {
    const consumer = await this.openConsumer();
    const deadLetter = deadLetterSink(
      this.nc as NatsConnection,
      jetstream(this.nc as NatsConnection, { domain: this.config.snake.domain }),
      this.env.TELEMETRY,
    );
    this.stats.lastError = null;
    this.health.bus.succeeded();
    this.health.busDownSince = null;
    const { flush_interval: flushInterval, buffer_size: bufferSize } = this.config.ingest;
    if (!this.lastFlushAt) this.lastFlushAt = Date.now();
    while (this.nc && !this.nc.isClosed()) {
      const untilFlush = this.lastFlushAt + flushInterval - Date.now();
      const room = bufferSize - this.pending.messageCount;
      if (room > 0 && untilFlush > 0 && this.pending.recordCount < MAX_RECORDS_PER_FLUSH) {
        // JetStream takes a message count or a byte budget, not both: size the count from what messages weigh.
        const byBytes = Math.max(1, Math.floor(MAX_FETCH_BYTES / this.averageMessageBytes));
        const messages = await consumer.fetch({
          max_messages: Math.min(room, byBytes),
          expires: Math.max(1_000, untilFlush),
        });
        for await (const message of messages) await this.accept(message, deadLetter);
      }
      const full =
        this.pending.messageCount >= bufferSize || this.pending.recordCount >= MAX_RECORDS_PER_FLUSH;
      if (full || Date.now() >= this.lastFlushAt + flushInterval) await this.flush(deadLetter);
    }
  }

  /** Takes one message: its good records are held for the next flush, what is refused is dead-lettered. */
  private async accept(message: JsMsg, deadLetter: DeadLetter): Promise<void> {
    this.averageMessageBytes = 0.8 * this.averageMessageBytes + 0.2 * message.data.byteLength;
    const { mixer, observability } = this.config;
    const t0 = performance.now();
    const decoded = decodeTelemetryBatch(message.data, {
      maxPayloadSize: mixer.max_payload_size,
      now: Date.now(),
      maxAgeMs: observability.embedded.rotation.max_age_days * 86_400_000,
    });
    this.stats.timing.decodeMs += performance.now() - t0;
    try {
      if (!decoded.ok) {
        await deadLetter(message.subject, decoded.reason, message.data);
        this.stats.messagesDeadLettered++;
        message.ack();
        return;
      }
      if (decoded.rejected.length > 0) {
        const reason = decoded.rejected.map((r) => r.reason).join("; ");
        await deadLetter(
          message.subject,
          reason,
          cbor.encode({ kind: decoded.kind, rejected: decoded.rejected }),
        );
        this.stats.recordsDeadLettered += decoded.rejected.length;
      }
    } catch (error) {
      // The dead letter is not stored yet: keep the original and try again shortly.
      console.error(
        `snake bridge: dead-lettering from ${message.subject} failed: ${(error as Error).message}`,
      );
      message.nak(1_000);
      return;
    }
    if (decoded.records.length === 0) message.ack();
    else this.pending.add({ message, kind: decoded.kind, records: decoded.records });
  }

  private async flush(deadLetter: DeadLetter): Promise<void> {
    const batches = this.pending.take();
    this.lastFlushAt = Date.now();
    if (batches.length === 0) return;
    for (const batch of batches) batch.message.working();
    const { storage } = this.config.observability.embedded;
    const hang = this.env[FAULT_HANG_BEFORE_ACK] === "1";
    await flushBatches(batches, {
      store: async (kind, records) => {
        const stored = await this.health.store.watch(
          storeTelemetryRecords(this.env.TELEMETRY, kind, records, storage),
        );
        if (hang) await new Promise(() => {});
        return stored;
      },
      deadLetter,
      onStored: (stored, records) => {
        this.stats.objectsWritten += stored.keys.length;
        this.stats.bytesWritten += stored.bytes;
        this.stats.timing.encodeMs += stored.encodeMs;
        this.stats.timing.putMs += stored.putMs;
        this.stats.recordsStored += records;
      },
      onDeadLettered: (records) => {
        this.stats.recordsDeadLettered += records;
        this.stats.messagesDeadLettered++;
      },
    });
    const t0 = performance.now();
    await this.nc?.flush();
    this.stats.timing.ackMs += performance.now() - t0;
    this.stats.flushes++;
  }
}
