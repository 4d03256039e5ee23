import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { uuidv7 } from "uuidv7";
import { onTestFinished } from "vitest";
import { telemetryTier } from "../../rack-agent/src/otlp/index.ts";
import { connectSnake } from "../../rack-agent/src/snake/connect.ts";
import {
  createTelemetry,
  type Telemetry,
  type TelemetryOptions,
} from "../../rack-agent/src/telemetry/index.ts";
import {
  loadConfig,
  mixerConfigSchema,
  type RackConfig,
  rackConfigSchema,
} from "../../shared/config/index.ts";
import { ensureStreams } from "../../shared/snake/streams.ts";
import { type NatsServer, type StartNatsServerOptions, startNatsServer } from "./nats-server.ts";
import { readTelemetryStream } from "./telemetry-stream.ts";

export interface TelemetryRigOptions {
  /** FLUXRIG_* variables for the rack config (the Snake URL and state dir are set by the rig). */
  env?: Record<string, string>;
  /** Connect over the server's websocket listener instead of TCP. */
  websocket?: boolean;
  /** File-backed streams (`snake.durable`), so messages survive a server restart. */
  durable?: boolean;
  server?: StartNatsServerOptions;
  /** The rack's fluxrig.toml, for what the environment cannot say (`${VAR}` references). */
  toml?: string;
  /** Overrides on top of the options derived from the rack config. */
  telemetry?: Partial<TelemetryOptions>;
}

export interface TelemetryRig {
  /** The server now running (a new handle after `startServer`). */
  readonly server: NatsServer;
  /** Stops the server, keeping its ports and store (an outage). */
  stopServer(): Promise<void>;
  /** Brings the stopped server back on the same ports with the same store. */
  startServer(): Promise<void>;
  nc: NatsConnection;
  jsm: JetStreamManager;
  config: RackConfig;
  stateDir: string;
  entity: { id: string; name: string };
  telemetry: Telemetry;
  /** What the client passed to `warn`. */
  warnings: string[];
  /** Creates another client on the same connection and state dir (e.g. a rack restarted after a crash). */
  newTelemetry(overrides?: Partial<TelemetryOptions>): Promise<Telemetry>;
  /** Every record in the telemetry stream, with the kind of its batch. */
  records(): Promise<{ kind: string; record: Record<string, unknown> }[]>;
}

/**
 * A real nats-server with the mixer's streams, a rack config loaded through the real loader, a Snake
 * connection and a telemetry client; all of it is closed and removed when the test finishes.
 *
 * @example
 * const rig = await startTelemetryRig({ env: { FLUXRIG_RACK_MAX_PAYLOAD_SIZE: "4KiB" } });
 * await rig.telemetry.log("info", "hello");
 * await rig.telemetry.flush();
 * expect(await rig.records()).toHaveLength(1);
 */
export async function startTelemetryRig(options: TelemetryRigOptions = {}): Promise<TelemetryRig> {
  let server = await startNatsServer(options.server);
  const stateDir = await mkdtemp(join(tmpdir(), "fluxrig-state-"));
  const cleanups: (() => Promise<unknown>)[] = [() => server.stop(), () => rm(stateDir, { recursive: true })];
  onTestFinished(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const { config } = loadConfig(rackConfigSchema, {
    ...(options.toml === undefined ? {} : { file: { path: "fluxrig.toml", text: options.toml } }),
    env: {
      FLUXRIG_SNAKE_URL: options.websocket ? server.wsUrl : server.url,
      FLUXRIG_SNAKE_RECONNECT_WAIT: "100ms",
      FLUXRIG_BASE_NAME: "rack-test-01",
      FLUXRIG_BASE_STATE_DIR: stateDir,
      ...options.env,
    },
  });
  const nc = await connectSnake(config.snake);
  cleanups.push(() => nc.close());
  const jsm = await jetstreamManager(nc, { domain: config.snake.domain });
  const mixer = loadConfig(mixerConfigSchema, {
    env: { FLUXRIG_SNAKE_DURABLE: String(options.durable ?? false) },
  });
  await ensureStreams(jsm, mixer.config.snake);

  const entity = { id: uuidv7(), name: config.base.name };
  const warnings: string[] = [];
  const newTelemetry = async (overrides: Partial<TelemetryOptions> = {}) => {
    const telemetry = await createTelemetry({
      nc,
      domain: config.snake.domain,
      entity,
      maxPayloadSize: config.rack.max_payload_size,
      samplingRate: config.observability.sampling_rate,
      enabled: config.observability.enabled,
      stateDir: config.base.state_dir,
      retryIntervalMs: config.snake.reconnect_wait,
      spoolMaxBytes: config.store.wal_max_size_mb * 2 ** 20,
      warn: (message) => warnings.push(message),
      ...telemetryTier(config),
      ...options.telemetry,
      ...overrides,
    });
    cleanups.push(() => telemetry.close());
    return telemetry;
  };

  return {
    get server() {
      return server;
    },
    stopServer: () => server.stop({ keepStore: true }),
    async startServer() {
      server = await startNatsServer({ reuse: server });
    },
    nc,
    jsm,
    config,
    stateDir,
    entity,
    telemetry: await newTelemetry(),
    warnings,
    newTelemetry,
    async records() {
      const stored = await readTelemetryStream(jsm);
      return stored.flatMap(({ batch }) =>
        batch.records.map((record) => ({ kind: batch.kind, record: record as Record<string, unknown> })),
      );
    },
  };
}
