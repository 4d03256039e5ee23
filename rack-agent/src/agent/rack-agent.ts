import { clearInterval, setInterval } from "node:timers";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstream } from "@nats-io/jetstream";
import { decode } from "@nats-io/jwt";
import { jwtAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import type { KeyPair } from "@nats-io/nkeys";
import type { LoadedConfig, RackConfig } from "../../../shared/config/index.ts";
import type { ScenarioDelivery } from "../../../shared/control/scenario-delivery.ts";
import { passportSubject, scenarioSubject } from "../../../shared/fluxmsg/subjects.ts";
import { ENROLLMENT_INBOX_PREFIX, rackInboxPrefix } from "../../../shared/nats-auth/index.ts";
import { PassportError, type PassportPayload } from "../../../shared/passport/index.ts";
import { redactUrl } from "../../../shared/redact/url-credentials.ts";
import { businessDeadLetters } from "../flow/dead-letters.ts";
import { JetStreamLanes } from "../flow/guaranteed-lanes.ts";
import type { ThrottleSettings } from "../gears/log-throttle.ts";
import { nextBootStamp } from "../identity/boot-stamp.ts";
import { loadOrCreateBusKey } from "../identity/bus-key.ts";
import { ClusterPin } from "../identity/cluster-pin.ts";
import { PassportStore } from "../identity/passport-store.ts";
import { loadOrCreateRackKeys, type RackKeys } from "../identity/rack-keys.ts";
import { primaryIp, rackName } from "../identity/rack-name.ts";
import { ScenarioStore } from "../identity/scenario-store.ts";
import { Journal } from "../journal/journal.ts";
import type { RackLogger } from "../log/index.ts";
import { telemetryTier } from "../otlp/index.ts";
import { closeSnake, connectSnake, type SnakeConnectOptions } from "../snake/connect.ts";
import { createTelemetry, type Telemetry, type TelemetryStats } from "../telemetry/index.ts";
import { configChanges } from "./config-reload.ts";
import { EnrollmentUnanswered, enroll } from "./enroll.ts";
import { GearRunner } from "./gear-runner.ts";
import { startHeartbeats } from "./heartbeats.ts";
import { environmentSecrets, RackSecrets } from "./rack-secrets.ts";
import {
  type PipelineStatus,
  type RackStatusFile,
  type RecentProblems,
  STATUS_EVERY_MS,
  writeStatusFile,
} from "./status-file.ts";

/** How long a stop waits for gears to drain before giving up lane publishes the bus has not taken. */
const LANE_DRAIN_GRACE_MS = 5_000;

/** While the bus stays unreachable, a reminder that the rack still tries, this often. */
const STILL_TRYING_EVERY_MS = 60_000;

export interface RackAgentOptions {
  loaded: LoadedConfig<RackConfig>;
  /** Every line the agent and its gears say; once online, the agent attaches its telemetry to it. */
  log: RackLogger;
  /** Aborting stops the agent: gears, heartbeats and telemetry end, the connection drains. */
  signal: AbortSignal;
  agentVersion: string;
  /** The last warn and error lines, for the status file `fluxrig status` reads. */
  problems?: RecentProblems;
  /** Fires `reload` (SIGHUP): the agent loads its config again with `reload` and applies what it can. */
  reloads?: EventTarget;
  reload?: () => Promise<LoadedConfig<RackConfig>>;
}

/**
 * `fluxrig run`: a rack's life. Keys and name first, then the cached passport (verified against the
 * pinned cluster key), then the bus; a rack without a usable passport enrolls within
 * `rack.enrollment_timeout`. The passport's status decides whether gears run; the mixer's re-signed
 * passports arrive on `flux.ctl.passport.<rack_id>`; heartbeats go out every `rack.heartbeat_interval`.
 * With a good cached passport and no bus, the rack starts on its cached state and connects when it can;
 * without one it retries the bus every `snake.reconnect_wait` (and enrollment while no mixer answers) until
 * it enrolls or is stopped.
 * Resolves once `signal` aborts and everything stopped.
 *
 * @example await runRackAgent({ loaded, log, signal: controller.signal, agentVersion: pkg.version });
 */
export async function runRackAgent(options: RackAgentOptions): Promise<void> {
  const agent = await RackAgent.prepare(options);
  // Ctrl-C while connecting or enrolling: closing the connection ends the wait at once.
  const interrupt = () => agent.interrupt();
  options.signal.addEventListener("abort", interrupt, { once: true });
  const reload = () => void agent.reload();
  options.reloads?.addEventListener("reload", reload);
  // What `fluxrig status` reads, with the mixer down too: rewritten every few seconds while the agent runs.
  const writeStatus = () => void agent.writeStatus();
  writeStatus();
  const statusTimer = setInterval(writeStatus, STATUS_EVERY_MS);
  statusTimer.unref();
  try {
    await agent.start();
    options.signal.removeEventListener("abort", interrupt);
    if (!options.signal.aborted) {
      await new Promise((resolve) => options.signal.addEventListener("abort", resolve, { once: true }));
    }
  } finally {
    options.reloads?.removeEventListener("reload", reload);
    clearInterval(statusTimer);
    await agent.stop();
    await agent.writeStatus("stopped");
  }
}

class RackAgent {
  readonly #gears: GearRunner;
  #passport: PassportPayload | undefined;
  #nc: NatsConnection | undefined;
  #telemetry: Telemetry | undefined;
  #lanes: JetStreamLanes | undefined;
  #heartbeats: ReturnType<typeof startHeartbeats> | undefined;
  /** The scenario part held (verified), kept in `<base.state_dir>/scenario.flux`. */
  #scenario: ScenarioDelivery | undefined;
  readonly #scenarios: ScenarioStore;
  /** Passport and scenario updates apply one at a time, in arrival order. */
  #updates: Promise<void> = Promise.resolve();
  /** `[logging.throttling]`, read by every gear at every line, so a reload applies to running gears. */
  readonly #throttle: ThrottleSettings;
  /** The config last loaded (at start or on SIGHUP): what a reload is compared with for live keys. */
  #latest: LoadedConfig<RackConfig>;
  #bus = { connected: false, since: Date.now() };
  readonly #startedAt = Date.now();
  /** Status writes one at a time, so an older snapshot never lands over a newer one. */
  #statusWrites: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: RackAgentOptions,
    private readonly keys: RackKeys,
    private readonly name: string,
    private readonly ip: string,
    private readonly pin: ClusterPin,
    private readonly store: PassportStore,
    /** This start's boot stamp, carried by every heartbeat. */
    private readonly boot: number,
    /** The rack's own NATS user nkey: its bus JWTs (in the passport) are issued for it. */
    private readonly busKey: KeyPair,
  ) {
    this.#gears = new GearRunner(options.log.info);
    this.#scenarios = new ScenarioStore(options.loaded.config.base.state_dir);
    this.#throttle = { ...options.loaded.config.logging.throttling };
    this.#latest = options.loaded;
  }

  static async prepare(options: RackAgentOptions): Promise<RackAgent> {
    const { config } = options.loaded;
    const stateDir = config.base.state_dir;
    const keys = await loadOrCreateRackKeys(stateDir, options.log.warn);
    const name = rackName(config.base.name, config.rack.name_prefix, keys.fingerprint);
    const ip = await primaryIp(config.rack.ip);
    const pin = await ClusterPin.load(stateDir, config.rack.cluster_key_fingerprint);
    const store = new PassportStore(stateDir, config.base.state_file, keys.fingerprint);
    const boot = await nextBootStamp(stateDir, options.log.warn);
    const busKey = await loadOrCreateBusKey(stateDir, options.log.warn);
    options.log.info(`rack ${name}: ip ${ip}, identity key ${keys.fingerprint}, state in ${stateDir}`);
    return new RackAgent(options, keys, name, ip, pin, store, boot, busKey);
  }

  get #config(): RackConfig {
    return this.options.loaded.config;
  }

  async start(): Promise<void> {
    const { log, signal } = this.options;
    const cached = await this.#cachedPassport();
    if (!cached) this.#bootstrapToken();
    // Under operator mode a cached passport holds this rack's bus credentials: present them, not the
    // enrollment token (a renamed rack enrolls again, which its standby JWT allows too).
    const nc = cached
      ? await connectSnake(this.#config.snake, this.#connectOptions(cached)).catch((error: Error) => {
          log.warn(`${error.message}; starting on the cached passport, and connecting in the background`);
          return undefined;
        })
      : await this.#connectPatiently();
    this.#nc = nc;
    if (signal.aborted) return;
    if (!nc) {
      await this.#apply(cached as PassportPayload);
      void this.#connectLater();
      return;
    }
    if (cached && cached.name === this.name) {
      log.info(`using the cached passport of rack ${cached.rack_id}; no enrollment needed`);
      await this.#apply(cached);
    } else {
      if (cached) log.info(`base.name changed from ${cached.name} to ${this.name}: enrolling again`);
      await this.#apply(await this.#enrollPatiently(nc));
    }
    await this.#online(cached ? nc : await this.#asRack(nc));
  }

  /**
   * A rack without a passport can do nothing but reach the bus: it tries every `snake.reconnect_wait`, each
   * attempt bounded by `snake.connect_timeout`, saying so at the first failure and every minute after, so a
   * service manager never has to restart it. Undefined once stopped.
   */
  async #connectPatiently(): Promise<NatsConnection | undefined> {
    const { log, signal } = this.options;
    const snake = this.#config.snake;
    let failures = 0;
    let saidAt = 0;
    while (!signal.aborted) {
      try {
        const nc = await connectSnake(snake, this.#connectOptions());
        if (failures > 0) log.info(`reached ${snake.url} after ${failures} failed attempt(s)`);
        return nc;
      } catch (error) {
        failures++;
        if (failures === 1 || Date.now() - saidAt >= STILL_TRYING_EVERY_MS) {
          saidAt = Date.now();
          log.warn(
            `${(error as Error).message}; this rack has no passport yet and must enroll over the bus: ` +
              `trying again every ${snake.reconnect_wait} ms (snake.reconnect_wait), ${failures} attempt(s) so far`,
          );
        }
        await sleep(snake.reconnect_wait, undefined, { signal }).catch(() => undefined);
      }
    }
    return undefined;
  }

  /** Enrolls, trying again while no mixer answers (it may start after the rack); a refusal ends the rack. */
  async #enrollPatiently(nc: NatsConnection): Promise<PassportPayload> {
    for (;;) {
      try {
        return await this.#enroll(nc);
      } catch (error) {
        if (!(error instanceof EnrollmentUnanswered) || this.options.signal.aborted) throw error;
        this.options.log.warn(`${error.message}; trying again`);
        await sleep(this.#config.snake.reconnect_wait, undefined, { signal: this.options.signal });
      }
    }
  }

  /**
   * How this rack presents itself to the bus. With bus credentials in its passport (operator mode): its own
   * inbox, and its active JWT while unexpired, else the standby one, read at every (re)connect so a renewed
   * passport takes effect at the next one. Before it holds any: the enrollment token, if set. Else nothing
   * (an open bus).
   */
  #connectOptions(passport: PassportPayload | undefined = this.#passport): SnakeConnectOptions {
    const name = `fluxrig-rack-${this.name}`;
    if (passport?.bus) {
      const seed = this.busKey.getSeed();
      return {
        name,
        inboxPrefix: rackInboxPrefix(passport.rack_id),
        // An expired JWT is refused until a renewal arrives: keep trying instead of closing for good.
        ignoreAuthErrorAbort: true,
        authenticator: (nonce?: string) => {
          const bus = this.#passport?.bus ?? passport.bus;
          const jwt = bus?.jwt && !expiresWithin(bus.jwt, 5_000) ? bus.jwt : (bus?.standby_jwt as string);
          return jwtAuthenticator(jwt, seed)(nonce);
        },
      };
    }
    const token = this.#config.snake.enrollment_token;
    return token
      ? { name, inboxPrefix: ENROLLMENT_INBOX_PREFIX, authenticator: jwtAuthenticator(token) }
      : { name };
  }

  /**
   * After a first enrollment on the enrollment credential: the bus knows the rack only once it shows its
   * own JWT, so the enrollment connection is swapped for one as the rack (no-op on an open bus).
   */
  async #asRack(nc: NatsConnection): Promise<NatsConnection> {
    if (!this.#passport?.bus || nc.info?.auth_required !== true) return nc;
    await closeSnake(nc);
    const rack = await this.#connectPatiently();
    if (!rack) throw new Error("stopped before reaching the bus as the enrolled rack");
    return rack;
  }

  interrupt(): void {
    if (this.#nc) void closeSnake(this.#nc);
  }

  async stop(): Promise<void> {
    this.#heartbeats?.stop();
    this.#gears.stop("the agent is stopping");
    await this.#updates;
    const settled = this.#gears.settled();
    // With the bus down, draining gears wait on lane publishes being retried: after a grace, give those up
    // (their messages fail, and what came from a lane stays unacked for redelivery).
    await Promise.race([settled, sleep(LANE_DRAIN_GRACE_MS)]);
    await this.#lanes?.close();
    await settled;
    await this.#telemetry?.close();
    this.options.log.attach(undefined);
    if (this.#nc && !this.#nc.isClosed()) await this.#nc.drain().catch(() => this.#nc?.close());
    this.options.log.info("stopped");
  }

  /**
   * SIGHUP: loads the config again and applies the keys that can change live (log level, throttling, trace
   * sampling); changed keys that are read only at start are named as needing a restart. A config that does
   * not load is refused with its errors, and the running one stays.
   */
  async reload(): Promise<void> {
    const { log, reload } = this.options;
    if (!reload) return;
    let next: LoadedConfig<RackConfig>;
    try {
      next = await reload();
    } catch (error) {
      log.error(`config reload refused, keeping the running config: ${(error as Error).message}`);
      return;
    }
    for (const warning of next.warnings) log.warn(warning);
    const live = configChanges(this.#latest, next).live;
    const restart = configChanges(this.options.loaded, next).restart;
    this.#latest = next;
    const { logging, observability } = next.config;
    const applied = live.length ? `applied ${live.map((c) => c.text).join(", ")}` : "nothing to apply live";
    // Said at whichever of the two levels shows it: before a level that hides info lines, or after one that shows them.
    const said = log.enabled("info");
    if (said) log.info(`config reloaded: ${applied}`);
    log.setLevel(logging.level);
    Object.assign(this.#throttle, logging.throttling);
    this.#telemetry?.setSamplingRate(observability.sampling_rate);
    if (!said) log.info(`config reloaded: ${applied}`);
    if (restart.length) {
      log.warn(`config reloaded: needs a restart to apply: ${restart.map((c) => c.text).join(", ")}`);
    }
  }

  /** Writes `<base.state_dir>/status.json` for `fluxrig status`; a failure is told, never thrown. */
  writeStatus(agent: RackStatusFile["agent"] = "running"): Promise<void> {
    this.#statusWrites = this.#statusWrites
      .then(() => writeStatusFile(this.#config.base.state_dir, this.#status(agent)))
      .catch((error: Error) => this.options.log.local.warn(`status file not written: ${error.message}`));
    return this.#statusWrites;
  }

  #status(agent: RackStatusFile["agent"]): RackStatusFile {
    const passport = this.#passport;
    const telemetry = this.#telemetry;
    const config = this.#config;
    return {
      written_at: Date.now(),
      pid: process.pid,
      agent_version: this.options.agentVersion,
      started_at: this.#startedAt,
      agent,
      rack: {
        name: this.name,
        identity_key: this.keys.fingerprint,
        rack_id: passport?.rack_id ?? null,
        enrollment: passport?.status ?? "not enrolled",
        passport_issued_at: passport?.issued_at ?? null,
      },
      bus: { url: redactUrl(config.snake.url), ...this.#bus },
      spool: {
        max_bytes: config.store.wal_max_size_mb * 2 ** 20,
        telemetry: telemetry && config.observability.enabled ? pipelineStatus(telemetry.stats()) : null,
        journal: telemetry ? pipelineStatus(telemetry.journalStats()) : null,
      },
      gears: this.#gears.state,
      scenario: this.#gears.scenario ?? null,
      last_errors: this.options.problems?.list() ?? [],
    };
  }

  /** Follows the connection's state for the status file. */
  async #watchBus(nc: NatsConnection): Promise<void> {
    const changed = (connected: boolean) => {
      if (connected !== this.#bus.connected) this.#bus = { connected, since: Date.now() };
      void this.writeStatus();
    };
    changed(true);
    for await (const status of nc.status()) {
      if (status.type === "disconnect") changed(false);
      else if (status.type === "reconnect") changed(true);
    }
    changed(false);
  }

  /** The stored passport if it is good; a bad one is reported and enrollment replaces it. */
  async #cachedPassport(): Promise<PassportPayload | undefined> {
    const pinned = this.pin.key;
    if (!pinned) return undefined;
    try {
      return await this.store.load(pinned);
    } catch (error) {
      if (!(error instanceof PassportError)) throw error;
      this.options.log.warn(`refusing the stored passport: ${error.message}; enrolling again`);
      return undefined;
    }
  }

  /** The token enrollment proves; checked before waiting for the bus, so a rack that cannot enroll says so at once. */
  #bootstrapToken(): string {
    const token = this.#config.rack.bootstrap_token;
    if (!token) {
      throw new Error(
        "this rack has no passport yet and rack.bootstrap_token is not set: set FLUXRIG_RACK_BOOTSTRAP_TOKEN " +
          "to the token the mixer printed at start (fluxrig-mixer dev keeps it in <store.dir>/bootstrap-token)",
      );
    }
    return token;
  }

  async #enroll(nc: NatsConnection): Promise<PassportPayload> {
    const { config, entries } = this.options.loaded;
    const token = this.#bootstrapToken();
    this.options.log.info(`enrolling as ${this.name} on ${config.snake.url}`);
    const result = await enroll({
      nc,
      keys: this.keys,
      claims: {
        name: this.name,
        ip: this.ip,
        agent_version: this.options.agentVersion,
        labels: config.rack.labels,
        heartbeat_interval_ms: config.rack.heartbeat_interval,
        config: Object.fromEntries(entries.filter((e) => !e.secret).map((e) => [e.key, e.value])),
      },
      secrets: environmentSecrets(entries),
      natsUserKey: this.busKey.getPublicKey(),
      token,
      timeoutMs: config.rack.enrollment_timeout,
      retryMs: config.snake.reconnect_wait,
    });
    const pinned = await this.pin.accept(result.clusterKey);
    const passport = await this.store.save(result.passport, pinned, this.#passport);
    await this.pin.save(pinned, result.mixerId, this.options.log.warn);
    this.options.log.info(
      `enrolled as rack ${passport.rack_id} with mixer ${result.mixerId} (cluster key ${pinned.fingerprint})`,
    );
    return passport;
  }

  /** Follows a verified passport: its status decides whether gears run. */
  async #apply(passport: PassportPayload): Promise<void> {
    this.#passport = passport;
    const { log } = this.options;
    const fromEnv = environmentSecrets(this.options.loaded.entries);
    const secrets = await RackSecrets.open(passport.secrets, this.keys.sealing, fromEnv, log.warn);
    const names = secrets.names().join(", ") || "none";
    log.info(
      `passport: rack ${passport.rack_id} is ${passport.status} (issued ${new Date(passport.issued_at).toISOString()}; secrets: ${names})`,
    );
    if (passport.status === "pending") {
      log.info(`waiting for adoption: an operator runs \`fluxrig racks approve ${passport.name}\``);
    }
    this.#gears.follow(passport.status, secrets);
    if (!this.#scenario) await this.#cachedScenario(passport.rack_id);
    void this.writeStatus();
  }

  /** The part kept from an earlier run, so the rack runs its scenario without the mixer. */
  async #cachedScenario(rackId: string): Promise<void> {
    const pinned = this.pin.key;
    if (!pinned) return;
    try {
      this.#scenario = await this.#scenarios.load(pinned, rackId);
    } catch (error) {
      this.options.log.warn(`refusing the stored scenario part: ${(error as Error).message}`);
      return;
    }
    if (!this.#scenario) return;
    const { name, version } = this.#scenario.part.scenario;
    this.options.log.info(
      `running the stored scenario part of ${name} ${version} until the mixer sends another`,
    );
    void this.#gears.runPart(this.#scenario.part, partLimits(this.#scenario)).then(() => this.writeStatus());
  }

  /** A scenario part delivered by the mixer: verified, kept, then run; refused with the last good one kept. */
  async #receiveScenario(bytes: Uint8Array, subject: string): Promise<void> {
    const pinned = this.pin.key;
    const rackId = this.#passport?.rack_id;
    if (!pinned || !rackId) return;
    let delivery: ScenarioDelivery;
    try {
      delivery = await this.#scenarios.save(bytes, pinned, rackId, this.#scenario);
    } catch (error) {
      this.options.log.warn(`refused a scenario part on ${subject}: ${(error as Error).message}`);
      return;
    }
    if (delivery === this.#scenario) {
      this.#heartbeats?.now();
      return;
    }
    this.#scenario = delivery;
    const { name, version, hash } = delivery.part.scenario;
    this.options.log.info(`scenario ${name} ${version} (${hash.slice(0, 12)}) received; applying it`);
    await this.#gears.runPart(delivery.part, partLimits(delivery));
    // `fluxrig status` shows the new scenario at once, not at the next periodic rewrite.
    void this.writeStatus();
    this.#heartbeats?.now();
  }

  /** On the bus with a passport: take deliveries, send heartbeats and telemetry. */
  async #online(nc: NatsConnection): Promise<void> {
    const passport = this.#passport as PassportPayload;
    const config = this.#config;
    const { log } = this.options;
    this.#nc = nc;
    void this.#watchBus(nc);
    const follow = (
      subject: string,
      what: string,
      receive: (bytes: Uint8Array, on: string) => Promise<void>,
    ) =>
      nc.subscribe(subject, {
        callback: (error, msg) => {
          if (error) log.warn(`${what} subscription: ${error.message}`);
          else {
            this.#updates = this.#updates
              .then(() => receive(msg.data, msg.subject))
              .catch((failure: unknown) =>
                log.warn(`${what} on ${msg.subject}: ${(failure as Error).message}`),
              );
          }
        },
      });
    follow(passportSubject(passport.rack_id), "passport", (bytes, on) => this.#receive(bytes, on));
    follow(scenarioSubject(passport.rack_id), "scenario part", (bytes, on) =>
      this.#receiveScenario(bytes, on),
    );
    const telemetry = await createTelemetry({
      nc,
      domain: config.snake.domain,
      entity: { id: passport.rack_id, name: passport.name },
      maxPayloadSize: config.rack.max_payload_size,
      samplingRate: config.observability.sampling_rate,
      enabled: config.observability.enabled,
      stateDir: config.base.state_dir,
      retryIntervalMs: config.snake.reconnect_wait,
      spoolMaxBytes: config.store.wal_max_size_mb * 2 ** 20,
      ...telemetryTier(config),
      // What telemetry says about itself must not become telemetry: a failing pipeline would feed itself.
      warn: log.local.warn,
    });
    this.#telemetry = telemetry;
    log.attach(telemetry);
    // One journal for the rack: gears, guaranteed wires and lane dead letters share its spec masking.
    const journal = new Journal(telemetry, { warn: log.warn });
    this.#lanes = new JetStreamLanes({
      nc,
      domain: config.snake.domain,
      stream: config.snake.stream_name,
      rackName: passport.name,
      convergenceDelayMs: config.snake.convergence_delay,
      retryMs: config.snake.reconnect_wait,
      maxPayloadSize: config.rack.max_payload_size,
      journal,
      warn: log.warn,
    });
    this.#gears.attach({
      lanes: this.#lanes,
      rackName: passport.name,
      telemetry,
      journal,
      log,
      limits: { maxHops: config.rack.max_hops, maxPayloadSize: config.rack.max_payload_size },
      throttle: this.#throttle,
      deadLetter: businessDeadLetters(
        jetstream(nc, { domain: config.snake.domain }),
        passport.name,
        log.warn,
      ),
    });
    this.#heartbeats = startHeartbeats({
      nc,
      rackId: passport.rack_id,
      boot: this.boot,
      identityKey: this.keys.identity.privateKey,
      intervalMs: config.rack.heartbeat_interval,
      state: () => {
        const stats = telemetry.stats();
        const journalStats = telemetry.journalStats();
        const scenario = this.#gears.scenario;
        return {
          passport_issued_at: this.#passport?.issued_at ?? 0,
          gears: this.#gears.state,
          ...(scenario ? { scenario } : {}),
          counters: {
            telemetry_records_sent: stats.recordsSent,
            telemetry_records_dropped: stats.recordsDropped,
            journal_records_sent: journalStats.recordsSent,
            journal_records_dropped: journalStats.recordsDropped,
          },
        };
      },
      onSent: () => void telemetry.counter("fluxrig.rack.heartbeats_sent", 1),
      warn: log.warn,
    });
    log.info(`connected to ${config.snake.url}; heartbeats every ${config.rack.heartbeat_interval} ms`);
  }

  /** A passport delivered by the mixer: verified and stored, or refused with the last good one kept. */
  async #receive(bytes: Uint8Array, subject: string): Promise<void> {
    const pinned = this.pin.key;
    if (!pinned) return;
    try {
      const passport = await this.store.save(bytes, pinned, this.#passport);
      if (passport === this.#passport) return;
      const busChanged = passport.bus?.jwt !== this.#passport?.bus?.jwt;
      await this.#apply(passport);
      // The server holds the JWT a connection opened with: new permissions (adoption, suspension) and a
      // renewed expiry apply from the next connect.
      if (busChanged && this.#nc?.info?.auth_required) {
        this.options.log.info("bus credentials changed with the passport: reconnecting with them");
        await this.#nc.reconnect();
      }
      this.#heartbeats?.now();
    } catch (error) {
      if (!(error instanceof PassportError)) throw error;
      this.options.log.warn(
        `refused a passport on ${subject}: ${error.message}; keeping the one issued ${new Date(this.#passport?.issued_at ?? 0).toISOString()}`,
      );
    }
  }

  /** Started offline on the cached passport: keep trying the bus, then go online (enrolling if renamed). */
  async #connectLater(): Promise<void> {
    const { signal, log } = this.options;
    const snake = this.#config.snake;
    while (!signal.aborted) {
      await sleep(snake.reconnect_wait, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      const nc = await connectSnake(snake, this.#connectOptions()).catch(() => undefined);
      if (!nc) continue;
      if (signal.aborted) return void (await closeSnake(nc));
      log.info(`reached ${snake.url}`);
      try {
        if (this.#passport?.name !== this.name) await this.#apply(await this.#enroll(nc));
        await this.#online(nc);
      } catch (error) {
        log.warn(`going online failed: ${(error as Error).message}`);
        await closeSnake(nc);
        continue;
      }
      return;
    }
  }
}

function pipelineStatus(stats: TelemetryStats): PipelineStatus {
  return {
    records_sent: stats.recordsSent,
    records_spooled: stats.recordsSpooled,
    records_dropped: stats.recordsDropped,
    spool_batches: stats.spool.batches,
    spool_bytes: stats.spool.bytes,
  };
}

/** What the mixer's delivery adds to a part: its global hop cap. */
function partLimits(delivery: ScenarioDelivery): { maxHops?: number } {
  return delivery.max_hops === undefined ? {} : { maxHops: delivery.max_hops };
}

/** True when a JWT's `exp` (unix seconds) falls within `marginMs` from now; never for one without `exp`. */
function expiresWithin(jwt: string, marginMs: number): boolean {
  const exp = decode<unknown>(jwt).exp;
  return exp !== undefined && exp * 1000 - marginMs <= Date.now();
}
