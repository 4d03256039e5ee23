import { DurableObject } from "cloudflare:workers";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { jwtAuthenticator, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import {
  JOURNAL_CONSUMER,
  JOURNAL_DEAD_LETTER,
  JOURNAL_FILTER,
  TELEMETRY_CONSUMER,
  TELEMETRY_DEAD_LETTER,
  TELEMETRY_FILTER,
  TELEMETRY_STREAM,
} from "../../../shared/fluxmsg/subjects.ts";
import { JOURNAL_KIND } from "../../../shared/journal/record.ts";
import {
  accountJwt,
  mixerUser,
  pushAccountJwt,
  REVOKED_FOREVER,
  systemUser,
} from "../../../shared/nats-auth/index.ts";
import { type OtlpSource, otlpSource } from "../../../shared/otlp/otlp-encode.ts";
import { OtlpExportError } from "../../../shared/otlp/otlp-http.ts";
import { type OtlpTarget, otlpTarget } from "../../../shared/otlp/otlp-target.ts";
import { ensureStreams } from "../../../shared/snake/streams.ts";
import { partitionOf } from "../../../shared/storage/object-keys.ts";
import type { BatchKind } from "../../../shared/telemetry/batch.ts";
import {
  type LogRecord,
  type MetricRecord,
  type RecordOf,
  TELEMETRY_KINDS,
} from "../../../shared/telemetry/records.ts";
import { storeCompactor } from "../compactor/compactor-stub.ts";
import { mixerConfig } from "../config.ts";
import { type ControlPlane, startControlPlane } from "../control/control-plane.ts";
import type { MixerEnv } from "../env.ts";
import { deadLetterSink } from "../ingest/dead-letter.ts";
import { KnownRacks } from "../ingest/entity-claims.ts";
import { IngestPump } from "../ingest/ingest-pump.ts";
import { mixerId } from "../registry/mixer-identity.ts";
import { natsKeys } from "../registry/nats-keys.ts";
import { rackNames, revokedNatsUserKeys } from "../registry/racks.ts";
import { applyRetention } from "../retention/apply-retention.ts";
import { activateStartupScenario } from "../scenarios/startup.ts";
import { BridgeMetricsSampler } from "../self/bridge-metrics.ts";
import { consoleLine } from "../self/console-line.ts";
import { exportOtlp } from "../self/otlp-export.ts";
import { SelfTelemetry, type SelfTelemetryBatch } from "../self/self-telemetry.ts";
import { type StoredRow, storeRecords, storeRows } from "../store/index.ts";
import type { BridgeStatus, IngestBridgeView } from "./bridge-status.ts";
import { otherBridges, totalCounters } from "./ingest-bridges.ts";
import { PartHealth } from "./part-health.ts";

/**
 * How often the mixer's own telemetry is written: rarely enough not to litter the store with tiny objects,
 * often enough that a crash loses little of it (this, plus the few seconds an isolate holds API counters).
 */
const SELF_FLUSH_MS = 10_000;

/** Where an ingest bridge keeps its index, so its alarm knows its part after the object was evicted. */
const INGEST_INDEX_KEY = "ingest:index";

/** Test-only fault: hang after the R2 write and before the ack, so a test can kill the mixer right there. */
const FAULT_HANG_BEFORE_ACK = "MIXER_FAULT_HANG_BEFORE_ACK";

/**
 * Holds the mixer's NATS connection (Workers cannot keep one outside a Durable Object) and drains two durable
 * JetStream consumers of the telemetry stream into R2, each with its own {@link IngestPump}: `mixer-ingest`
 * (telemetry, to `telemetry/`) and `mixer-journal` (journal records, to `messages/`). Each buffers up to
 * `ingest.buffer_size` messages, and every `ingest.flush_interval` (or when full) writes Parquet and only then
 * acks. A crash
 * between write and ack redelivers the messages: duplicates, never loss (queries dedupe by record_id).
 * An alarm every flush interval keeps it alive, reconnected and pumping.
 *
 * With `ingest.bridges` > 1, bridge 0 (this, named "snake-bridge") starts more instances of this class as
 * ingest bridges 1…N-1: each only pulls the same two consumers on its own connection and writes its own
 * objects (JetStream hands each message to one puller, so nothing is written twice), and tells the compactor.
 * The control plane, revocations, retention and the startup scenario stay with bridge 0.
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
  private lastError: string | null = null;
  /** A revocation not yet taken by nats-server (it was down or refused): retried by the alarm. */
  private revocationsPending = false;
  /** Records claiming another rack than their subject names are dead-lettered, checked against these. */
  private readonly knownRacks = new KnownRacks(() => rackNames(this.env.REGISTRY));
  private readonly telemetryPump = new IngestPump({
    stream: TELEMETRY_STREAM,
    consumer: TELEMETRY_CONSUMER,
    filter: TELEMETRY_FILTER,
    kinds: TELEMETRY_KINDS,
    store: (kind, rows) => this.store(kind, rows),
    entities: (subject) => this.knownRacks.check(subject),
  });
  private readonly journalPump = new IngestPump({
    stream: TELEMETRY_STREAM,
    consumer: JOURNAL_CONSUMER,
    filter: JOURNAL_FILTER,
    kinds: [JOURNAL_KIND],
    store: (kind, rows) => this.store(kind, rows),
    entities: (subject) => this.knownRacks.check(subject),
  });
  /** Failures counted and kept for /health; the bus counts as down from the start until first reached. */
  private health = {
    store: new PartHealth(),
    bus: new PartHealth(),
    busDownSince: Date.now() as number | null,
  };
  /** The mixer's own logs and metrics, written as entity `base.name` every {@link SELF_FLUSH_MS}. */
  private self = new SelfTelemetry(() => this.config.logging.level);
  private lastSelfFlushAt = Date.now();
  /** Partition folders written to since the compactor was last told. */
  private written = new Set<string>();
  private metricsSampler = new BridgeMetricsSampler();
  /** 0 for the main bridge; 1… for an ingest bridge (see {@link runIngest}). */
  private ingestIndex = 0;

  constructor(ctx: DurableObjectState, env: MixerEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.ingestIndex = (await ctx.storage.get<number>(INGEST_INDEX_KEY)) ?? 0;
    });
  }

  private get config() {
    return mixerConfig(this.env).config;
  }

  /**
   * Starts the bridge if it is not running and reports its state. Counters only after the first call (which
   * arms the alarm): `/health` must answer at once even while the control plane works off a flood.
   */
  async status(): Promise<BridgeStatus> {
    await this.keepRunning();
    const own = this.ingestView();
    const bridges = [own, ...(await otherBridges(this.env, this.config.ingest.bridges))];
    return {
      connected: own.connected,
      url: this.config.snake.websocket_url,
      lastError: this.lastError,
      telemetry: totalCounters(bridges.map((bridge) => bridge.telemetry)),
      journal: totalCounters(bridges.map((bridge) => bridge.journal)),
      bridges,
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
   * Runs this object as ingest bridge `index` (≥ 1): remembers it, keeps its alarm set and its pumps running,
   * and reports its view. Bridge 0 calls it on every alarm and /health.
   */
  async runIngest(index: number): Promise<IngestBridgeView> {
    if (this.ingestIndex !== index) {
      this.ingestIndex = index;
      await this.ctx.storage.put(INGEST_INDEX_KEY, index);
    }
    await this.keepRunning();
    return this.ingestView();
  }

  /** Arms the alarm once (alarm() keeps it set from then on) and starts pumping if it is not. */
  private async keepRunning(): Promise<void> {
    this.alarmArmed ??= this.ensureAlarm().catch((error: unknown) => {
      this.alarmArmed = undefined;
      throw error;
    });
    await this.alarmArmed;
    this.ensurePumping();
  }

  private ingestView(): IngestBridgeView {
    const connected = this.nc !== undefined && !this.nc.isClosed();
    if (connected) this.health.busDownSince = null;
    else this.health.busDownSince ??= Date.now();
    return {
      index: this.ingestIndex,
      connected,
      lastError: this.lastError,
      telemetry: this.telemetryPump.counters(),
      journal: this.journalPump.counters(),
      store: this.health.store.view(),
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
    this.metricsSampler.sample(this.self, {
      ...this.telemetryPump.counters(),
      control: this.control?.stats() ?? null,
      bridge: this.ingestIndex,
    });
    const entity = { id: await mixerId(this.env.REGISTRY), name: base.name };
    const collector = observability.tier === "otlp" ? otlpTarget(observability.otlp) : undefined;
    await this.self.flush(entity, async (kind, records) => {
      if (collector) return this.exportSelf(collector, otlpSource(entity, "fluxrig-mixer"), kind, records);
      return this.wrote(
        await this.health.store.watch(
          storeRecords(this.env.TELEMETRY, kind, records, observability.embedded.storage),
        ),
      );
    });
  }

  /**
   * `tier = "otlp"`: the mixer's own records go to the collector instead of R2. What the collector may take
   * later is held for the next flush (the caller re-holds on a throw); what it refused for good is dropped,
   * counted in /health `self_telemetry.dropped` and told.
   */
  private async exportSelf(
    collector: OtlpTarget,
    source: OtlpSource,
    kind: "logs" | "metrics",
    records: LogRecord[] | MetricRecord[],
  ): Promise<void> {
    try {
      await exportOtlp(collector, source, kind, records as RecordOf<typeof kind>[]);
    } catch (error) {
      if (!(error instanceof OtlpExportError) || error.retryable) throw error;
      this.self.dropped += records.length;
      consoleLine(
        "error",
        `mixer telemetry: the collector refused ${records.length} ${kind}: ${error.message}`,
      );
    }
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

  /**
   * Makes nats-server refuse every revoked rack at once (under `snake.auth = "jwt"`): pushes the account JWT
   * with their user keys revoked to the `full` resolver as a system-account user, so their connections close.
   * A push that fails is counted as a bus failure and retried by the alarm until it lands.
   */
  async revokeOnBus(): Promise<void> {
    try {
      await this.pushRevocations();
      this.revocationsPending = false;
    } catch (error) {
      this.revocationsPending = true;
      this.health.bus.failed(error);
      this.self.log(
        "error",
        `snake bridge: revocations not taken by nats-server yet: ${(error as Error).message}`,
      );
    }
  }

  private async pushRevocations(): Promise<void> {
    const keys = natsKeys(this.env);
    if (!keys) return;
    const revoked = await revokedNatsUserKeys(this.env.REGISTRY);
    const jwt = await accountJwt(keys, Object.fromEntries(revoked.map((key) => [key, REVOKED_FOREVER])));
    const sys = await systemUser(keys);
    const nc = await wsconnect({
      servers: this.config.snake.websocket_url,
      name: "fluxrig-mixer-revocations",
      authenticator: jwtAuthenticator(sys.jwt, sys.seed),
      maxReconnectAttempts: 0,
      timeout: 10_000,
    });
    try {
      await pushAccountJwt(nc, jwt);
    } finally {
      await nc.close();
    }
  }

  override async alarm(): Promise<void> {
    const { ingest } = this.config;
    if (this.ingestIndex >= ingest.bridges) return this.retire();
    this.ensurePumping();
    if (this.revocationsPending) await this.revokeOnBus();
    await this.ctx.storage.setAlarm(Date.now() + ingest.flush_interval);
    if (Date.now() - this.lastSelfFlushAt >= SELF_FLUSH_MS) await this.flushSelfTelemetry();
    if (this.ingestIndex === 0) {
      await this.retentionIfDue();
      // Keeps the other ingest bridges running (their own alarms do too, once they were started).
      await otherBridges(this.env, ingest.bridges);
    }
    await this.tellCompactor();
  }

  /**
   * An ingest bridge beyond `ingest.bridges` (the setting was lowered) stops: no alarm, no connection. What it
   * held un-acked is redelivered to the others after ack_wait: written late, never lost.
   */
  private async retire(): Promise<void> {
    // Its alarm is not set again: a later runIngest (the setting raised) arms it anew.
    this.alarmArmed = undefined;
    await this.tellCompactor();
    await this.nc?.close().catch(() => undefined);
    this.self.log(
      "info",
      `ingest bridge ${this.ingestIndex} stopped: ingest.bridges is ${this.config.ingest.bridges}`,
    );
  }

  /** Notes the partitions a store wrote to, for the compactor. */
  private wrote<T extends { keys: string[] }>(stored: T): T {
    for (const key of stored.keys) {
      const folder = partitionOf(key)?.folder;
      if (folder) this.written.add(folder);
    }
    return stored;
  }

  /** Hands the compactor the partitions written to since last time (kept for the next alarm if it fails). */
  private async tellCompactor(): Promise<void> {
    if (this.written.size === 0) return;
    const folders = [...this.written];
    this.written.clear();
    await storeCompactor(this.env)
      .noteWritten(folders)
      .catch((error: unknown) => {
        for (const folder of folders) this.written.add(folder);
        this.self.log(
          "warn",
          `snake bridge: the compactor did not take the partitions written: ${(error as Error).message}`,
        );
      });
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
        this.lastError = `${new Date().toISOString()} ${(error as Error).message}`;
        this.health.bus.failed(error);
        this.self.log("error", `snake bridge: ${(error as Error).message}`);
      })
      .finally(() => {
        this.pumping = undefined;
      });
  }

  /** Connects (once per connection: control plane, startup scenario), ensures the streams and both consumers. */
  private async connectBus(): Promise<NatsConnection> {
    const { snake } = this.config;
    if (!this.nc || this.nc.isClosed()) {
      // Under operator mode the bridge is its own user, the only one allowed to manage streams and consumers.
      const keys = natsKeys(this.env);
      const name =
        this.ingestIndex === 0 ? "fluxrig-mixer-bridge" : `fluxrig-mixer-bridge-${this.ingestIndex}`;
      const user = keys ? await mixerUser(keys, name) : undefined;
      this.nc = await wsconnect({
        servers: snake.websocket_url,
        name,
        ...(user ? { authenticator: jwtAuthenticator(user.jwt, user.seed) } : {}),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
        timeout: 10_000,
      }).catch((error: unknown) => {
        throw new Error(
          `cannot reach NATS at ${snake.websocket_url} (snake.websocket_url): ${(error as Error).message}`,
        );
      });
      if (this.ingestIndex > 0) return this.ensureConsumers(this.nc);
      // The resolver may hold an older account JWT (a restarted server, its preload): state the revocations again.
      if (keys) await this.revokeOnBus();
      const control = startControlPlane(this.nc, this.env);
      this.control = control;
      this.startupScenario ??= activateStartupScenario(this.env, {
        passport: control.deliverPassport,
        scenario: control.deliverScenario,
      })
        .then((outcome) => outcome && consoleLine("info", `scenarios: ${outcome}`))
        .catch((error: Error) =>
          consoleLine("error", `scenarios: mixer.startup_scenario failed: ${error.message}`),
        );
    }
    return this.ensureConsumers(this.nc);
  }

  private async ensureConsumers(nc: NatsConnection): Promise<NatsConnection> {
    const { snake, ingest } = this.config;
    const jsm = await jetstreamManager(nc, { domain: snake.domain });
    await ensureStreams(jsm, snake);
    await this.telemetryPump.ensureConsumer(jsm, ingest);
    await this.journalPump.ensureConsumer(jsm, ingest);
    return nc;
  }

  /** Runs both pumps until the connection closes or one fails (a pump still running is not started twice). */
  private async pump(): Promise<void> {
    const nc = await this.connectBus();
    const { domain } = this.config.snake;
    const js = jetstream(nc, { domain });
    this.lastError = null;
    this.health.bus.succeeded();
    this.health.busDownSince = null;
    const settings = () => this.config;
    await Promise.all([
      this.telemetryPump.run(
        nc,
        domain,
        settings,
        deadLetterSink(nc, js, this.env.TELEMETRY, TELEMETRY_DEAD_LETTER),
      ),
      this.journalPump.run(
        nc,
        domain,
        settings,
        deadLetterSink(nc, js, this.env.TELEMETRY, JOURNAL_DEAD_LETTER),
      ),
    ]);
  }

  private async store(kind: BatchKind, rows: StoredRow[]) {
    const stored = this.wrote(
      await this.health.store.watch(
        storeRows(this.env.TELEMETRY, kind, rows, this.config.observability.embedded.storage),
      ),
    );
    if (this.env[FAULT_HANG_BEFORE_ACK] === "1") await new Promise(() => {});
    return stored;
  }
}
