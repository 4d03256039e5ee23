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
import { ensureStreams } from "../../../shared/snake/streams.ts";
import { partitionOf } from "../../../shared/storage/object-keys.ts";
import type { BatchKind } from "../../../shared/telemetry/batch.ts";
import { TELEMETRY_KINDS } from "../../../shared/telemetry/records.ts";
import { storeCompactor } from "../compactor/compactor-stub.ts";
import { mixerConfig } from "../config.ts";
import { type ControlPlane, startControlPlane } from "../control/control-plane.ts";
import type { MixerEnv } from "../env.ts";
import { deadLetterSink } from "../ingest/dead-letter.ts";
import type { IngestRecord } from "../ingest/decode-batch.ts";
import { KnownRacks } from "../ingest/entity-claims.ts";
import { IngestPump } from "../ingest/ingest-pump.ts";
import { mixerId } from "../registry/mixer-identity.ts";
import { natsKeys } from "../registry/nats-keys.ts";
import { rackNames, revokedNatsUserKeys } from "../registry/racks.ts";
import { applyRetention } from "../retention/apply-retention.ts";
import { activateStartupScenario } from "../scenarios/startup.ts";
import { BridgeMetricsSampler } from "../self/bridge-metrics.ts";
import { consoleLine } from "../self/console-line.ts";
import { SelfTelemetry, type SelfTelemetryBatch } from "../self/self-telemetry.ts";
import { storeRecords } from "../store/index.ts";
import type { BridgeStatus } from "./bridge-status.ts";
import { PartHealth } from "./part-health.ts";

/**
 * How often the mixer's own telemetry is written: rarely enough not to litter the store with tiny objects,
 * often enough that a crash loses little of it (this, plus the few seconds an isolate holds API counters).
 */
const SELF_FLUSH_MS = 10_000;

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
    store: (kind, records) => this.store(kind, records),
    entities: (subject) => this.knownRacks.check(subject),
  });
  private readonly journalPump = new IngestPump({
    stream: TELEMETRY_STREAM,
    consumer: JOURNAL_CONSUMER,
    filter: JOURNAL_FILTER,
    kinds: [JOURNAL_KIND],
    store: (kind, records) => this.store(kind, records),
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
      lastError: this.lastError,
      telemetry: this.telemetryPump.counters(),
      journal: this.journalPump.counters(),
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
    this.metricsSampler.sample(this.self, {
      ...this.telemetryPump.counters(),
      control: this.control?.stats() ?? null,
    });
    await this.self.flush({ id: await mixerId(this.env.REGISTRY), name: base.name }, async (kind, records) =>
      this.wrote(
        await this.health.store.watch(
          storeRecords(this.env.TELEMETRY, kind, records, observability.embedded.storage),
        ),
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
    this.ensurePumping();
    if (this.revocationsPending) await this.revokeOnBus();
    await this.ctx.storage.setAlarm(Date.now() + this.config.ingest.flush_interval);
    if (Date.now() - this.lastSelfFlushAt >= SELF_FLUSH_MS) await this.flushSelfTelemetry();
    await this.retentionIfDue();
    await this.tellCompactor();
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
    const { snake, ingest } = this.config;
    if (!this.nc || this.nc.isClosed()) {
      // Under operator mode the bridge is its own user, the only one allowed to manage streams and consumers.
      const keys = natsKeys(this.env);
      const user = keys ? await mixerUser(keys, "fluxrig-mixer-bridge") : undefined;
      this.nc = await wsconnect({
        servers: snake.websocket_url,
        name: "fluxrig-mixer-bridge",
        ...(user ? { authenticator: jwtAuthenticator(user.jwt, user.seed) } : {}),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
        timeout: 10_000,
      }).catch((error: unknown) => {
        throw new Error(
          `cannot reach NATS at ${snake.websocket_url} (snake.websocket_url): ${(error as Error).message}`,
        );
      });
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
    const jsm = await jetstreamManager(this.nc, { domain: snake.domain });
    await ensureStreams(jsm, snake);
    await this.telemetryPump.ensureConsumer(jsm, ingest);
    await this.journalPump.ensureConsumer(jsm, ingest);
    return this.nc;
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

  private async store(kind: BatchKind, records: IngestRecord[]) {
    const stored = this.wrote(
      await this.health.store.watch(
        storeRecords(this.env.TELEMETRY, kind, records, this.config.observability.embedded.storage),
      ),
    );
    if (this.env[FAULT_HANG_BEFORE_ACK] === "1") await new Promise(() => {});
    return stored;
  }
}
