import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Authenticator, jwtAuthenticator } from "@nats-io/nats-core";
import {
  type NatsServerOptions,
  type NatsServerProcess,
  startNatsServerProcess,
} from "../../mixer-worker/cli/dev/nats-server.ts";
import { generateNatsKeys, mixerUser, type NatsKeys, parseNatsKeys } from "../../shared/nats-auth/index.ts";

/** A nats-server started for a test, in its own temp dir, on random ports. */
export interface NatsServer {
  /** The server's process, e.g. to freeze it with SIGSTOP (a partition: connections hang, nothing is refused). */
  pid: number;
  /** `nats://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>` (websocket listener, no TLS). */
  wsUrl: string;
  /** `http://127.0.0.1:<port>` (monitoring: /varz, /jsz, …). */
  monitoringUrl: string;
  /** JetStream `store_dir`. */
  storeDir: string;
  jetstreamDomain: string;
  /** In operator mode (`operator: true`): the keys it trusts, to issue users as the mixer does. */
  keys?: NatsKeys;
  /**
   * Stops the server with SIGINT and waits for it to exit. The temp dir is removed unless `keepStore` is
   * set, in which case `startNatsServer({ reuse: this })` brings the same server back.
   */
  stop(options?: { keepStore?: boolean }): Promise<void>;
}

export interface StartNatsServerOptions {
  jetstreamDomain?: string;
  /** Server `max_payload` in bytes (nats-server's default is 1 MiB). */
  maxPayload?: number;
  /** A server stopped with `keepStore: true`: start again on the same ports with the same JetStream store. */
  reuse?: NatsServer;
  readyTimeoutMs?: number;
  /** Operator (JWT) mode with new keys: anonymous clients are refused; connect with {@link adminAuth}. */
  operator?: boolean;
  /** TLS on the client port, as {@link startNatsServerProcess} takes it. */
  tls?: NatsServerOptions["tls"];
}

/** What a server stopped with keepStore leaves for `reuse`; kept out of the public shape. */
const stopped = new WeakMap<NatsServer, NatsServerProcess>();

const portOf = (url: string) => Number(new URL(url).port);

/**
 * Starts a real nats-server for a test (the same starter `fluxrig-mixer dev` uses) with JetStream, a websocket
 * listener and monitoring on random 127.0.0.1 ports, in a fresh temp dir.
 *
 * @example
 * const server = await startNatsServer();
 * onTestFinished(() => server.stop());
 *
 * @example Outage: stop, then come back on the same ports with the same store.
 * await server.stop({ keepStore: true });
 * const again = await startNatsServer({ reuse: server });
 */
export async function startNatsServer(options: StartNatsServerOptions = {}): Promise<NatsServer> {
  const previous = options.reuse ? stopped.get(options.reuse) : undefined;
  if (options.reuse && !previous)
    throw new Error("startNatsServer({ reuse }): that server was not stopped with keepStore: true");
  if (options.reuse) stopped.delete(options.reuse);
  const base = previous
    ? {
        ...previous.options,
        port: portOf(previous.url),
        websocketPort: portOf(previous.wsUrl),
        monitoringPort: portOf(previous.monitoringUrl),
      }
    : {
        dir: await mkdtemp(join(tmpdir(), "fluxrig-nats-")),
        port: -1,
        websocketPort: -1,
        monitoringPort: -1,
        jetstreamDomain: options.jetstreamDomain ?? "flux",
        ...(options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload }),
        ...(options.operator ? { operator: parseNatsKeys(generateNatsKeys(), "generated") } : {}),
        ...(options.tls ? { tls: options.tls } : {}),
      };
  const process = await startNatsServerProcess({
    ...base,
    ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
  }).catch(async (error: unknown) => {
    if (!previous) await rm(base.dir, { recursive: true, force: true });
    throw error;
  });
  const server: NatsServer = {
    pid: process.pid,
    url: process.url,
    wsUrl: process.wsUrl,
    monitoringUrl: process.monitoringUrl,
    storeDir: process.storeDir,
    jetstreamDomain: base.jetstreamDomain,
    ...(base.operator ? { keys: base.operator } : {}),
    async stop({ keepStore = false } = {}) {
      await process.stop();
      if (keepStore) stopped.set(server, process);
      else await rm(base.dir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * Connection options for a user with every permission (what the mixer's bridge holds) on a server in operator
 * mode; none for an open server.
 *
 * @example const nc = await connect({ servers: server.url, ...(await adminAuth(server)) });
 */
export async function adminAuth(server: NatsServer): Promise<{ authenticator?: Authenticator }> {
  if (!server.keys) return {};
  const { jwt, seed } = await mixerUser(server.keys, "test-admin");
  return { authenticator: jwtAuthenticator(jwt, seed) };
}
