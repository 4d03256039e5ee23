import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type NatsKeys, operatorModeConfig } from "../../../shared/nats-auth/index.ts";

export interface NatsServerOptions {
  /** Holds nats.conf, nats.log, the ports file and the JetStream store (`<dir>/jetstream`). */
  dir: string;
  /** Client port; -1 picks a free one. */
  port: number;
  /** Websocket port (no TLS), for the mixer's Worker; -1 picks a free one. */
  websocketPort: number;
  /** Monitoring port (/varz, /jsz); -1 picks a free one. */
  monitoringPort: number;
  jetstreamDomain: string;
  /** Server `max_payload` in bytes (nats-server's default is 1 MiB). */
  maxPayload?: number;
  /**
   * Operator (JWT) mode with these keys: anonymous clients are refused, every client presents a user JWT of
   * the fluxrig account, and the `full` resolver under `<dir>/resolver` takes account updates (revocations).
   */
  operator?: NatsKeys;
  /** TLS on the client port (PEM files); with `caFile` and `verify`, clients must show a certificate it signed. */
  tls?: { certFile: string; keyFile: string; caFile?: string; verify?: boolean };
  readyTimeoutMs?: number;
}

/** A nats-server child process. */
export interface NatsServerProcess {
  pid: number;
  url: string;
  wsUrl: string;
  monitoringUrl: string;
  /** The JetStream store directory. */
  storeDir: string;
  options: NatsServerOptions;
  /** Resolves when the process has exited, for whatever reason. */
  exited: Promise<number | null>;
  /** Stops the server with SIGINT (its clean shutdown; SIGTERM exits 1) and waits for it. */
  stop(): Promise<void>;
}

interface Ports {
  nats: string[];
  monitoring: string[];
  websocket: string[];
}

async function serverConfig(o: NatsServerOptions): Promise<string> {
  return [
    `listen: 127.0.0.1:${o.port}`,
    `http: 127.0.0.1:${o.monitoringPort}`,
    `ports_file_dir: ${JSON.stringify(o.dir)}`,
    ...(o.maxPayload === undefined ? [] : [`max_payload: ${o.maxPayload}`]),
    `jetstream { store_dir: ${JSON.stringify(join(o.dir, "jetstream"))}, domain: ${JSON.stringify(o.jetstreamDomain)} }`,
    `websocket { host: 127.0.0.1, port: ${o.websocketPort}, no_tls: true, compression: false }`,
    ...(o.operator ? await operatorModeConfig(o.operator, join(o.dir, "resolver")) : []),
    ...(o.tls ? [tlsConfig(o.tls)] : []),
    "",
  ].join("\n");
}

function tlsConfig(tls: NonNullable<NatsServerOptions["tls"]>): string {
  const entries = [
    `cert_file: ${JSON.stringify(tls.certFile)}`,
    `key_file: ${JSON.stringify(tls.keyFile)}`,
    ...(tls.caFile ? [`ca_file: ${JSON.stringify(tls.caFile)}`] : []),
    ...(tls.verify ? ["verify: true"] : []),
  ];
  return `tls { ${entries.join(", ")} }`;
}

/**
 * Starts a real nats-server with JetStream, a websocket listener and monitoring on 127.0.0.1, and resolves
 * once it has written its ports file (its ready signal). One implementation for `fluxrig-mixer dev` (fixed
 * ports from `[snake]`) and the tests (random ports).
 *
 * @example
 * const nats = await startNatsServerProcess({ dir, port: 4222, websocketPort: 4223, monitoringPort: -1, jetstreamDomain: "flux" });
 */
export async function startNatsServerProcess(options: NatsServerOptions): Promise<NatsServerProcess> {
  await mkdir(options.dir, { recursive: true });
  const configPath = join(options.dir, "nats.conf");
  const logPath = join(options.dir, "nats.log");
  await writeFile(configPath, await serverConfig(options));
  // Its own process group: a terminal's Ctrl-C reaches the launcher only, which stops the server last, after
  // the bridge has drained what the server holds.
  const child = spawn("nats-server", ["-c", configPath, "-l", logPath], { stdio: "ignore", detached: true });
  // Nothing may outlive its starter: a crashed test runner or launcher takes its server down with it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.then(() => process.off("exit", killOnExit));

  let ports: Ports;
  try {
    ports = await waitForPorts(child, options.dir, logPath, options.readyTimeoutMs ?? 10_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  await rm(join(options.dir, `nats-server_${child.pid}.ports`), { force: true });
  return {
    pid: child.pid as number,
    url: first(ports.nats, "nats"),
    wsUrl: first(ports.websocket, "websocket"),
    monitoringUrl: first(ports.monitoring, "monitoring"),
    storeDir: join(options.dir, "jetstream"),
    options,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
        await exited;
      }
    },
  };
}

function first(urls: string[] | undefined, what: string): string {
  const url = urls?.[0];
  if (!url) throw new Error(`nats-server's ports file has no ${what} URL`);
  return url;
}

async function waitForPorts(
  child: ChildProcess,
  dir: string,
  logPath: string,
  timeoutMs: number,
): Promise<Ports> {
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError?.code === "ENOENT") {
      throw new Error(
        "nats-server is not installed or not on PATH: install it with `apt-get install -y nats-server`",
      );
    }
    if (spawnError) throw new Error(`cannot start nats-server: ${spawnError.message}`);
    if (child.pid !== undefined) {
      const text = await readFile(join(dir, `nats-server_${child.pid}.ports`), "utf8").catch(() => "");
      // The server writes the file in one go, but a read can race the write: retry until it parses.
      if (text.endsWith("}")) return JSON.parse(text) as Ports;
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `nats-server exited (${child.exitCode ?? child.signalCode}) before it was ready; log tail:\n${await logTail(logPath)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `nats-server did not become ready within ${timeoutMs} ms; log tail:\n${await logTail(logPath)}`,
      );
    }
    await sleep(20);
  }
}

async function logTail(logPath: string): Promise<string> {
  const text = await readFile(logPath, "utf8").catch(() => "(no log)");
  return text.split("\n").slice(-15).join("\n");
}
