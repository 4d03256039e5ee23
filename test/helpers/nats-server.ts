import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A running (or stopped) nats-server started for a test. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>` (websocket listener, no TLS). */
  wsUrl: string;
  /** `http://127.0.0.1:<port>` (monitoring: /varz, /jsz, …). */
  monitoringUrl: string;
  /** JetStream `store_dir`. */
  storeDir: string;
  jetstreamDomain: string;
  /**
   * Stops the server with SIGINT and waits for it to exit. The temp dir is removed unless `keepStore` is
   * set, in which case `startNatsServer({ reuse: this })` can bring the same server back.
   */
  stop(options?: { keepStore?: boolean }): Promise<void>;
}

export interface StartNatsServerOptions {
  jetstreamDomain?: string;
  /** Server `max_payload` in bytes (nats-server's default is 1 MiB). */
  maxPayload?: number;
  /** A server stopped with `keepStore: true`: start again on the same ports with the same JetStream store. */
  reuse?: NatsServer;
  /** How long to wait for the ports file before giving up. */
  readyTimeoutMs?: number;
}

interface Ports {
  nats: string[];
  monitoring: string[];
  websocket: string[];
}

/** What a stopped server leaves behind for `reuse`; kept out of the public shape. */
const reusable = new WeakMap<NatsServer, { dir: string; config: string }>();

/**
 * Starts a real nats-server on 127.0.0.1 with JetStream (under a fresh temp dir), a websocket listener and
 * monitoring, all on random ports, and resolves once it has written its ports file.
 *
 * @example
 * const server = await startNatsServer();
 * onTestFinished(() => server.stop());
 * const nc = await connect({ servers: server.url });
 *
 * @example Outage: stop, then come back on the same port with the same store.
 * await server.stop({ keepStore: true });
 * const again = await startNatsServer({ reuse: server });
 */
export async function startNatsServer(options: StartNatsServerOptions = {}): Promise<NatsServer> {
  const { reuse, readyTimeoutMs = 10_000 } = options;
  const jetstreamDomain = reuse?.jetstreamDomain ?? options.jetstreamDomain ?? "flux";
  let dir: string;
  let config: string;
  if (reuse) {
    const left = reusable.get(reuse);
    if (!left)
      throw new Error("startNatsServer({ reuse }): that server was not stopped with keepStore: true");
    reusable.delete(reuse);
    ({ dir, config } = left);
  } else {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-nats-"));
    config = serverConfig(dir, jetstreamDomain, options.maxPayload);
  }
  const configPath = join(dir, "nats.conf");
  const logPath = join(dir, "nats.log");
  await writeFile(configPath, config);

  const child = spawn("nats-server", ["-c", configPath, "-l", logPath], { stdio: "ignore" });
  // A test that forgets stop() must not leave a server behind when the runner exits.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise((resolve) => child.once("exit", resolve));

  let ports: Ports;
  try {
    ports = await waitForPorts(child, dir, logPath, readyTimeoutMs);
  } catch (error) {
    child.kill("SIGKILL");
    process.off("exit", killOnExit);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const storeDir = join(dir, "js");
  const server: NatsServer = {
    url: first(ports.nats, "nats"),
    wsUrl: first(ports.websocket, "websocket"),
    monitoringUrl: first(ports.monitoring, "monitoring"),
    storeDir,
    jetstreamDomain,
    async stop({ keepStore = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
        await exited;
      }
      process.off("exit", killOnExit);
      if (keepStore) reusable.set(server, { dir, config: pinnedConfig(config, ports) });
      else await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

function serverConfig(dir: string, domain: string, maxPayload: number | undefined): string {
  return [
    "listen: 127.0.0.1:-1",
    "http: 127.0.0.1:-1",
    `ports_file_dir: ${JSON.stringify(dir)}`,
    ...(maxPayload === undefined ? [] : [`max_payload: ${maxPayload}`]),
    `jetstream { store_dir: ${JSON.stringify(join(dir, "js"))}, domain: ${JSON.stringify(domain)} }`,
    "websocket { host: 127.0.0.1, port: -1, no_tls: true, compression: false }",
    "",
  ].join("\n");
}

/** The same config with the random ports replaced by the ones the server got, so a restart keeps its URLs. */
function pinnedConfig(config: string, ports: Ports): string {
  const port = (url: string) => new URL(url).port;
  return config
    .replace("listen: 127.0.0.1:-1", `listen: 127.0.0.1:${port(first(ports.nats, "nats"))}`)
    .replace("http: 127.0.0.1:-1", `http: 127.0.0.1:${port(first(ports.monitoring, "monitoring"))}`)
    .replace("port: -1", `port: ${port(first(ports.websocket, "websocket"))}`);
}

function first(urls: string[] | undefined, what: string): string {
  const url = urls?.[0];
  if (!url) throw new Error(`nats-server ports file has no ${what} URL`);
  return url;
}

async function waitForPorts(child: ChildProcess, dir: string, logPath: string, timeoutMs: number) {
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  const portsFile = () => join(dir, `nats-server_${child.pid}.ports`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError?.code === "ENOENT") {
      throw new Error("nats-server is not on PATH: install it with `apt-get install -y nats-server`");
    }
    if (spawnError) throw new Error(`cannot start nats-server: ${spawnError.message}`);
    if (child.pid !== undefined) {
      const text = await readFile(portsFile(), "utf8").catch(() => "");
      // The server writes the file in one go, but a read can still race the write: retry until it parses.
      if (text.endsWith("}")) return JSON.parse(text) as Ports;
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `nats-server exited (${child.exitCode ?? child.signalCode}) before it was ready; log tail:\n${await logTail(logPath)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `nats-server did not write its ports file within ${timeoutMs} ms; log tail:\n${await logTail(logPath)}`,
      );
    }
    await sleep(20);
  }
}

async function logTail(logPath: string): Promise<string> {
  const text = await readFile(logPath, "utf8").catch(() => "(no log)");
  return text.split("\n").slice(-15).join("\n");
}
