import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type ConnectionOptions, jwtAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { type LocalMixer, startLocalMixer } from "../../mixer-worker/cli/dev/local-mixer.ts";
import { NATS_KEYS } from "../../mixer-worker/cli/keys/mixer-secrets.ts";
import { loadConfig, mixerConfigSchema } from "../../shared/config/index.ts";
import { mixerUser, parseNatsKeys } from "../../shared/nats-auth/index.ts";
import { freePort } from "./free-port.ts";
import { mixerStartLock, seedRegistry } from "./registry-template.ts";
import { type BinResult, runBin } from "./run-bin.ts";

export interface TestMixer extends LocalMixer {
  /** Settings this mixer was started with, to start it again on the same ports and store. */
  env: Record<string, string>;
  /** The config file's text and path, when it was started with one. */
  toml?: string;
  configFile?: string | undefined;
  /** What the mixer printed so far (launcher, wrangler and the Worker's console), one line each. */
  output(): string;
  /** GET/POST the mixer's API with its token; parses JSON bodies. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** A connection to its bus as the launcher's own user (every permission; none needed on an open bus). */
  connectBus(options?: Partial<ConnectionOptions>): Promise<NatsConnection>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
  /** wrangler dev's inspector (Chrome DevTools protocol), for a benchmark's CPU profile of the Worker. */
  inspectorPort: number;
}

/**
 * Starts the real local mixer (nats-server + the Worker under `wrangler dev`, exactly what `npm run dev`
 * runs) on free ports with its store in a temp dir. Pass `again` to restart a stopped one on the same ports
 * and store, as after a crash.
 *
 * @example const mixer = await startTestMixer({ env: { FLUXRIG_INGEST_FLUSH_INTERVAL: "1s" } });
 */
export async function startTestMixer(
  options: {
    env?: Record<string, string>;
    extraVars?: Record<string, string>;
    again?: TestMixer;
    /** A store dir prepared beforehand (e.g. holding data); it is removed on dispose like a new one. */
    storeDir?: string;
    /** Text of a fluxrig-mixer.toml, written into the store dir and loaded as the config file. */
    toml?: string;
    /** How long to wait for the Worker to answer (default 90 s); a benchmark on a loaded machine waits longer. */
    readyTimeoutMs?: number;
  } = {},
): Promise<TestMixer> {
  const env =
    options.again?.env ??
    (await (async () => {
      const storeDir = options.storeDir ?? (await mkdtemp(join(tmpdir(), "fluxrig-mixer-")));
      return {
        FLUXRIG_STORE_DIR: storeDir,
        FLUXRIG_API_PORT: String(await freePort()),
        FLUXRIG_SNAKE_PORT: String(await freePort()),
        FLUXRIG_SNAKE_WEBSOCKET_URL: `ws://127.0.0.1:${await freePort()}`,
        FLUXRIG_API_TOKEN: "test-token-0123456789",
        // The mixer's own telemetry off unless a test asks for it: suites and benchmarks count what R2 holds,
        // and the mixer's records (its metrics every 10 s) would land among the racks'.
        FLUXRIG_OBSERVABILITY_ENABLED: "false",
        ...options.env,
      };
    })());
  const lines: string[] = [];
  const toml = options.toml ?? options.again?.toml;
  const file =
    toml === undefined
      ? undefined
      : { path: join(env.FLUXRIG_STORE_DIR as string, "fluxrig-mixer.toml"), text: toml };
  if (file) await writeFile(file.path, file.text);
  const loaded = {
    ...loadConfig(mixerConfigSchema, { env, ...(file ? { file } : {}) }),
    ...(file ? { file: file.path } : {}),
  };
  if (!options.again) await seedRegistry(join(resolve(loaded.config.store.dir), "mixer"));
  const inspectorPort = await freePort();
  const mixer = await oneStartAtATime(async () =>
    startLocalMixer({
      loaded,
      ...(file ? { fileText: file.text } : {}),
      flags: [],
      env,
      cwd: process.cwd(),
      log: (line) => {
        lines.push(line);
        if (process.env.FLUXRIG_TEST_VERBOSE) console.log(`[mixer] ${line}`);
      },
      ...(options.extraVars ? { extraVars: options.extraVars } : {}),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
      inspectorPort,
    }),
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n--- mixer output ---\n${lines.slice(-40).join("\n")}`);
  });
  return {
    ...mixer,
    env,
    inspectorPort,
    output: () => lines.join("\n"),
    ...(toml === undefined ? {} : { toml, configFile: file?.path }),
    connectBus: (options = {}) =>
      connect({
        servers: mixer.natsUrl,
        ...(mixer.natsAuthenticator ? { authenticator: mixer.natsAuthenticator } : {}),
        ...options,
      }),
    api: (path, init = {}) =>
      fetch(`${mixer.apiUrl}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${env.FLUXRIG_API_TOKEN}`, ...init.headers },
        signal: AbortSignal.timeout(20_000),
      }),
    async dispose() {
      await mixer.stop();
      await rm(env.FLUXRIG_STORE_DIR as string, { recursive: true, force: true });
    },
  };
}

/** How long a start waits for another file's start before going ahead beside it. */
const START_LOCK_WAIT_MS = 120_000;
/**
 * What a hook or test that starts one mixer must allow for it: the wait for the start lock, the mixer's own
 * 90 s wait for its first answer, and the nats-server and seeding around them. A hook of 180 s held a start that
 * waited 150 s for the lock (CI of 2026-12-01 14:15, rack-bundle's beforeAll).
 */
export const MIXER_START_MS = START_LOCK_WAIT_MS + 90_000 + 30_000;

/**
 * Runs `start` (a mixer's start, until it answers) while no other test mixer of this run starts: with two
 * e2e files at a time, two starts side by side (esbuild, workerd compiling the Worker and DuckDB's engine)
 * each took the other's core, and one missed its hook's 180 s (run of 03:51 UTC). The lock is a directory
 * holding its owner's pid; one whose owner is gone is taken over, and after `maxWaitMs` a start goes ahead.
 */
async function oneStartAtATime<T>(start: () => Promise<T>, maxWaitMs = START_LOCK_WAIT_MS): Promise<T> {
  const lock = mixerStartLock();
  if (!lock) return start();
  const owner = join(lock, "pid");
  const deadline = Date.now() + maxWaitMs;
  let held = false;
  while (!held && Date.now() < deadline) {
    try {
      await mkdir(lock);
      await writeFile(owner, String(process.pid));
      held = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(await readFile(owner, "utf8").catch(() => ""));
      if (pid > 0 && !processAlive(pid)) await rm(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await start();
  } finally {
    if (held) await rm(lock, { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Polls until `check` returns a value (not undefined), or fails with what it last saw. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`,
  );
}

/**
 * Runs `fluxrig <args>` against this mixer's API with its token, as an operator would.
 *
 * @example const listed = await fluxrigCli(mixer, ["racks", "list"]);
 */
export function fluxrigCli(mixer: TestMixer, args: string[], timeoutMs = 60_000): Promise<BinResult> {
  return runBin("fluxrig", [...args, "--api-url", mixer.apiUrl], {
    env: { FLUXRIG_API_TOKEN: mixer.env.FLUXRIG_API_TOKEN as string },
    timeoutMs,
  });
}

/**
 * What `fluxrig run` needs to join this mixer as rack `name`: its state under `<stateRoot>/<name>`, the
 * bootstrap token, and heartbeats every 2 s so tests see state changes quickly.
 *
 * @example startBin("fluxrig", ["run"], { env: rackEnv(mixer, dir, "rack-a") })
 */
export function rackEnv(
  mixer: TestMixer,
  stateRoot: string,
  name: string,
  snakeUrl = mixer.natsUrl,
): Record<string, string> {
  return {
    FLUXRIG_BASE_NAME: name,
    FLUXRIG_BASE_STATE_DIR: join(stateRoot, name),
    FLUXRIG_SNAKE_URL: snakeUrl,
    FLUXRIG_RACK_BOOTSTRAP_TOKEN: mixer.bootstrapToken,
    FLUXRIG_RACK_HEARTBEAT_INTERVAL: "2s",
    ...busEnv(mixer),
  };
}

/**
 * Connection options with every permission on the bus of a `fluxrig-mixer dev` whose store is `storeDir`, as
 * the launcher's own user (from the `nats.keys` it made); nothing when it runs an open bus (no keys there).
 *
 * @example const nc = await connect({ servers: natsUrl, ...(await storeBusAuth(join(dir, "data"))) });
 */
export async function storeBusAuth(storeDir: string): Promise<Partial<ConnectionOptions>> {
  const text = await readFile(join(storeDir, NATS_KEYS.file), "utf8").catch(() => undefined);
  if (text === undefined) return {};
  const user = await mixerUser(parseNatsKeys(text.trim(), NATS_KEYS.file), "fluxrig-test");
  return { authenticator: jwtAuthenticator(user.jwt, user.seed) };
}

/**
 * What a rack presents to this mixer's bus before it holds a passport: the enrollment token when the bus
 * runs in operator mode (`snake.auth = "jwt"`, the default), nothing on an open bus.
 *
 * @example startBin("fluxrig", ["run"], { env: { ...myEnv, ...busEnv(mixer) } })
 */
export function busEnv(mixer: LocalMixer): Record<string, string> {
  return mixer.enrollmentToken ? { FLUXRIG_SNAKE_ENROLLMENT_TOKEN: mixer.enrollmentToken } : {};
}
