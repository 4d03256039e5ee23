import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { fmtCreds } from "@nats-io/jwt";
import { type Authenticator, jwtAuthenticator } from "@nats-io/nats-core";
import { createUser } from "@nats-io/nkeys";
import { connect } from "@nats-io/transport-node";
import { LOCAL_EMIT_CREDS_FILE } from "../../../shared/cli/local-mixer-files.ts";
import type { FlagValue, LoadedConfig, LogLevel, MixerConfig } from "../../../shared/config/index.ts";
import { referencedVariables } from "../../../shared/config/index.ts";
import {
  emitPermissions,
  mixerUser,
  NATS_KEYS_SECRET,
  type NatsKeys,
  parseNatsKeys,
  userJwt,
} from "../../../shared/nats-auth/index.ts";
import { ensureStreams } from "../../../shared/snake/streams.ts";
import {
  API_TOKEN,
  BOOTSTRAP_TOKEN,
  clusterKeyFingerprint,
  clusterKeySecret,
  enrollmentTokenSecret,
  localSecret,
  NATS_KEYS,
} from "../keys/mixer-secrets.ts";
import { startupScenarioBase64 } from "../startup-scenario.ts";
import { drainTelemetry } from "./drain.ts";
import type { NatsServerProcess } from "./nats-server.ts";
import { superviseNatsServer } from "./nats-supervisor.ts";
import { assertPortFree, freePort } from "./port-check.ts";
import { startReaper } from "./reaper.ts";
import { applyRegistryMigrations } from "./registry-migrations.ts";
import { PROJECT_ROOT, signalGroup, startWranglerDev } from "./wrangler-process.ts";

export interface LocalMixerInput {
  loaded: LoadedConfig<MixerConfig> & { file?: string };
  /** The config file's text, passed to the Worker so it loads the very same layers. */
  fileText?: string;
  flags: FlagValue[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** A line of the launcher's, at `level` (default info): `logging.level` decides whether it prints. */
  log: (line: string, level?: LogLevel) => void;
  /** Test-only variables for the Worker (fault injection). */
  extraVars?: Record<string, string>;
  readyTimeoutMs?: number;
  /** The devtools inspector's port; by default one the OS picks (tests pass their own, see test/helpers/free-port.ts). */
  inspectorPort?: number;
}

export interface LocalMixer {
  apiUrl: string;
  natsUrl: string;
  wsUrl: string;
  token: string;
  tokenSource: string;
  /** What racks present to enroll (rack.bootstrap_token). */
  bootstrapToken: string;
  bootstrapTokenSource: string;
  /** The cluster key's fingerprint, for rack.cluster_key_fingerprint. */
  clusterKeyFingerprint: string;
  /** Under `snake.auth = "jwt"`: what racks present to the bus before they hold a passport (snake.enrollment_token). */
  enrollmentToken?: string;
  /** Under `snake.auth = "jwt"`: a user with every permission, for the launcher's own tools and tests. */
  natsAuthenticator?: Authenticator;
  storeDir: string;
  /** The nats-server process running now (it is restarted when it dies). */
  natsServerPid(): number;
  /** Its monitoring endpoint (`/connz`, `/jsz`), on a random 127.0.0.1 port. */
  natsMonitoringUrl(): string;
  /** Resolves with a reason when the Worker exits on its own, or nats-server keeps dying. */
  failed: Promise<string>;
  /**
   * Stops in order: closes telemetry intake, waits (up to `drainTimeoutMs`, default 60 s, or until `signal`
   * aborts) for the bridge to store and ack what the bus holds, then stops the Worker, then nats-server.
   */
  stop(options?: StopOptions): Promise<void>;
  /** Kills the Worker with SIGKILL, as a crash would, then stops nats-server (for recovery tests). */
  crash(): Promise<void>;
  /**
   * Freezes the Worker's processes (SIGSTOP) or thaws them (SIGCONT): a control plane that is down while the
   * bus runs on (for tests). Thaw before stop(), which waits for the Worker to drain.
   */
  freezeWorker(frozen: boolean): void;
}

export interface StopOptions {
  drainTimeoutMs?: number;
  /** Aborting ends the drain at once (a second Ctrl-C); what is left is named in a warning. */
  signal?: AbortSignal;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 60_000;

function portOf(url: string, setting: string): number {
  const port = Number(new URL(url).port);
  if (!port) throw new Error(`${setting} = "${url}" has no port`);
  return port;
}

/**
 * Runs the mixer locally, as `npm run dev` does: a nats-server child from `[snake]` (client port, the
 * websocket port of `snake.websocket_url`, JetStream domain, store under `store.dir`), the two streams, the
 * registry migrations, and the Worker under `wrangler dev` on `api.port` with D1, R2 and Durable Objects
 * persisted under `store.dir`. Resolves when both answer.
 */
export async function startLocalMixer(input: LocalMixerInput): Promise<LocalMixer> {
  const { config } = input.loaded;
  const storeDir = resolve(input.cwd, config.store.dir);
  const wsPort = portOf(config.snake.websocket_url, "snake.websocket_url");
  await assertPortFree(config.snake.port, "snake.port");
  await assertPortFree(wsPort, "snake.websocket_url");
  await assertPortFree(config.api.port, "api.port");
  await mkdir(storeDir, { recursive: true });
  const { value: token, source: tokenSource } = await localSecret(storeDir, API_TOKEN, input.env);
  const bootstrap = await localSecret(storeDir, BOOTSTRAP_TOKEN, input.env);
  const clusterKey = await localSecret(storeDir, clusterKeySecret(config.store.cluster_key_file), input.env);
  const fingerprint = await clusterKeyFingerprint(clusterKey.value, clusterKey.source);

  // Operator mode: the bus's keys (made on first start), a user for the launcher's own connections, and the
  // enrollment credential racks present before they hold a passport.
  const natsSecret =
    config.snake.auth === "jwt" ? await localSecret(storeDir, NATS_KEYS, input.env) : undefined;
  const natsKeys = natsSecret ? parseNatsKeys(natsSecret.value, natsSecret.source) : undefined;
  const launcherUser = natsKeys ? await mixerUser(natsKeys, "fluxrig-mixer-dev") : undefined;
  const natsAuthenticator = launcherUser ? jwtAuthenticator(launcherUser.jwt, launcherUser.seed) : undefined;
  const enrollmentToken = natsKeys
    ? (await localSecret(storeDir, enrollmentTokenSecret(natsKeys), input.env)).value
    : undefined;
  if (natsKeys) await writeEmitCreds(storeDir, natsKeys);
  const auth = natsAuthenticator ? { authenticator: natsAuthenticator } : {};

  // Nothing may outlive the launcher, even when it dies without running stop().
  const reaper = startReaper();
  if (!config.snake.durable) {
    input.log(
      "warning: snake.durable = false keeps the streams in memory: if nats-server crashes, telemetry the bus " +
        "acknowledged but the mixer has not yet written to R2 is lost (a clean Ctrl-C drains it first). " +
        "Production runs snake.durable = true or a replicated NATS cluster.",
      "warn",
    );
  }
  const nats = await superviseNatsServer(
    {
      dir: join(storeDir, "nats"),
      port: config.snake.port,
      websocketPort: wsPort,
      monitoringPort: -1,
      jetstreamDomain: config.snake.domain,
      maxPayload: Math.max(config.mixer.max_payload_size, 1_048_576),
      ...(natsKeys ? { operator: natsKeys } : {}),
    },
    {
      log: input.log,
      onSpawn: (server) => reaper.watch(server.pid, { group: true, signal: "INT" }),
      onRestart: (server) => createStreams(server, config, auth),
    },
  );
  let wrangler: ReturnType<typeof startWranglerDev> | undefined;
  const stopWorker = async (signal: NodeJS.Signals) => {
    const child = wrangler;
    if (!child) return;
    const gone =
      child.exitCode === null && child.signalCode === null
        ? new Promise((done) => child.once("exit", done))
        : null;
    signalGroup(child, signal);
    if (gone) await Promise.race([gone, new Promise((done) => setTimeout(done, 5_000))]);
    signalGroup(child, "SIGKILL");
  };
  const stopAll = async () => {
    await stopWorker("SIGINT");
    await nats.stop();
    reaper.release();
  };
  const stop = async (options: StopOptions = {}) => {
    if (wrangler) {
      await drainTelemetry({
        natsUrl: nats.current.url,
        domain: config.snake.domain,
        durable: config.snake.durable,
        storeDir,
        ...auth,
        timeoutMs: options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
        log: input.log,
        ...(options.signal ? { signal: options.signal } : {}),
      }).catch((error: Error) =>
        input.log(`stopping: could not drain the bridge: ${error.message}`, "error"),
      );
    }
    await stopAll();
  };
  try {
    await createStreams(nats.current, config, auth);
    const persistTo = join(storeDir, "mixer");
    const applied = await applyRegistryMigrations(persistTo, PROJECT_ROOT);
    input.log(
      `registry migrations ${applied ? "applied" : "already applied"} (D1, persisted under ${persistTo})`,
    );

    // Secrets, FLUXRIG_* settings and the variables the file refers to with ${VAR} reach the Worker through
    // an env file only its owner can read.
    const envFile = join(storeDir, "mixer.env");
    const referenced = new Set(referencedVariables(input.fileText ?? ""));
    const vars = new Map(
      Object.entries(input.env).filter(
        (entry): entry is [string, string] =>
          (entry[0].startsWith("FLUXRIG_") || referenced.has(entry[0])) && entry[1] !== undefined,
      ),
    );
    const startup = await startupScenarioBase64(config, input.cwd);
    if (startup) vars.set("MIXER_STARTUP_SCENARIO_BASE64", startup);
    vars.set(API_TOKEN.env, token);
    vars.set(BOOTSTRAP_TOKEN.env, bootstrap.value);
    vars.set("MIXER_CLUSTER_KEY", clusterKey.value);
    if (natsSecret) vars.set(NATS_KEYS_SECRET, natsSecret.value);
    await writeFile(envFile, [...vars].map(([name, value]) => dotenvLine(name, value)).join(""), {
      mode: 0o600,
    });
    await chmod(envFile, 0o600);

    wrangler = startWranglerDev({
      cwd: PROJECT_ROOT,
      port: config.api.port,
      inspectorPort: input.inspectorPort ?? (await freePort()),
      persistTo,
      envFile,
      vars: {
        MIXER_CONFIG_FLAGS: JSON.stringify(input.flags),
        ...(input.fileText !== undefined && input.loaded.file
          ? { MIXER_CONFIG_TOML: input.fileText, MIXER_CONFIG_PATH: input.loaded.file }
          : {}),
        ...input.extraVars,
      },
      // Wrangler filters its own lines and the Worker's by the same level.
      logLevel: config.logging.level,
      onOutput: (line) => input.log(line, "error"),
    });
    if (wrangler.pid !== undefined) reaper.watch(wrangler.pid, { group: true, signal: "KILL" });
    const apiUrl = `http://127.0.0.1:${config.api.port}`;
    const wranglerExited = new Promise<string>((done) =>
      wrangler?.once("exit", (code, signal) => done(`wrangler dev exited (${code ?? signal})`)),
    );
    await waitForHealth(apiUrl, wranglerExited, input.readyTimeoutMs ?? 90_000);
    const failed = Promise.race([wranglerExited, nats.failed]);
    return {
      apiUrl,
      natsUrl: nats.current.url,
      wsUrl: nats.current.wsUrl,
      natsServerPid: () => nats.current.pid,
      natsMonitoringUrl: () => nats.current.monitoringUrl,
      token,
      tokenSource,
      bootstrapToken: bootstrap.value,
      bootstrapTokenSource: bootstrap.source,
      clusterKeyFingerprint: fingerprint,
      ...(enrollmentToken ? { enrollmentToken } : {}),
      ...(natsAuthenticator ? { natsAuthenticator } : {}),
      storeDir,
      failed,
      stop,
      crash: async () => {
        await stopWorker("SIGKILL");
        await nats.stop();
        reaper.release();
      },
      freezeWorker: (frozen) => {
        if (wrangler) signalGroup(wrangler, frozen ? "SIGSTOP" : "SIGCONT");
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Writes `<store.dir>/emit.creds` (mode 0600): a new user that may only publish telemetry and journal
 * records, for `fluxrig emit` on this machine (an open bus needs none).
 */
async function writeEmitCreds(storeDir: string, keys: NatsKeys): Promise<void> {
  const user = createUser();
  const jwt = await userJwt(keys, user.getPublicKey(), {
    name: "fluxrig-emit",
    permissions: emitPermissions(),
  });
  const file = join(storeDir, LOCAL_EMIT_CREDS_FILE);
  await writeFile(file, fmtCreds(jwt, user), { mode: 0o600 });
  await chmod(file, 0o600);
}

/**
 * One line of the env file wrangler reads with dotenv. Single quotes keep a value literal (the cluster key
 * is JSON, and dotenv does not unescape \" inside double quotes); a value with a single quote or a line
 * break goes in double quotes instead, which suits any value without double quotes.
 */
function dotenvLine(name: string, value: string): string {
  if (!/['\n\r]/.test(value)) return `${name}='${value}'\n`;
  if (!value.includes('"')) return `${name}=${JSON.stringify(value)}\n`;
  throw new Error(`${name} holds both kinds of quotes; wrangler's env file cannot carry it`);
}

async function createStreams(
  nats: NatsServerProcess,
  config: MixerConfig,
  auth: { authenticator?: Authenticator },
): Promise<void> {
  const nc = await connect({ servers: nats.url, timeout: 5_000, ...auth });
  try {
    await ensureStreams(await jetstreamManager(nc, { domain: config.snake.domain }), config.snake);
  } finally {
    await nc.close();
  }
}

async function waitForHealth(apiUrl: string, exited: Promise<string>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let done: string | undefined;
  void exited.then((reason) => {
    done = reason;
  });
  let last = "";
  while (Date.now() < deadline) {
    if (done) throw new Error(`${done} before the mixer answered`);
    try {
      const res = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(5_000) });
      const body = (await res.json().catch(() => ({}))) as {
        nats?: { connected?: boolean; last_error?: string };
      };
      // Ready means the Worker answers AND its Snake bridge holds the NATS connection; a 503 that says so
      // (degraded for another part, e.g. a failing store) is up, and its /health says what is wrong.
      if (body.nats?.connected) return;
      last = body.nats
        ? `bridge not connected yet (${body.nats.last_error ?? "connecting"})`
        : `HTTP ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the mixer did not answer ${apiUrl}/health within ${timeoutMs} ms (last: ${last})`);
}
