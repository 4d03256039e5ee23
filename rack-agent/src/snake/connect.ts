import { createConnection } from "node:net";
import { type ConnectionOptions, errors, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { RackConfig } from "../../../shared/config/index.ts";

/** The `[snake]` fields a connection needs; durations in milliseconds, as the config loader gives them. */
export type SnakeConnectSettings = Pick<RackConfig["snake"], "url" | "connect_timeout" | "reconnect_wait"> &
  Partial<Pick<RackConfig["snake"], "tls_ca_file" | "tls_cert_file" | "tls_key_file">>;

/** Who connects: its name in the server's list, and its bus credentials under operator mode. */
export type SnakeConnectOptions = Pick<
  ConnectionOptions,
  "name" | "authenticator" | "inboxPrefix" | "ignoreAuthErrorAbort"
>;

/**
 * The client's TLS options: required (and the server's certificate verified, against `tls_ca_file` or the
 * system's roots) for a `tls://` URL or when a `tls_*` file is set; undefined otherwise, which still upgrades
 * to TLS when the server asks for it.
 */
function tlsOptions(settings: SnakeConnectSettings): ConnectionOptions["tls"] | undefined {
  const { url, tls_ca_file: ca = "", tls_cert_file: cert = "", tls_key_file: key = "" } = settings;
  if (!/^tls:\/\//i.test(url) && !ca && !cert) return undefined;
  return { ...(ca ? { caFile: ca } : {}), ...(cert ? { certFile: cert, keyFile: key } : {}) };
}

/**
 * Connects to Snake over TCP for `nats://` (and `tls://`) URLs or over a websocket for `ws://` and `wss://`
 * URLs, with the same NatsConnection either way. Once connected it reconnects forever, waiting
 * `snake.reconnect_wait` between attempts. A first connection that fails throws an error naming the URL
 * and the setting to check.
 *
 * @example
 * const nc = await connectSnake(config.snake, { name: config.base.name });
 */
export async function connectSnake(
  settings: SnakeConnectSettings,
  options: SnakeConnectOptions = {},
): Promise<NatsConnection> {
  const { url, connect_timeout: timeout, reconnect_wait: reconnectTimeWait } = settings;
  const tls = tlsOptions(settings);
  const connectionOptions: ConnectionOptions = {
    servers: url,
    timeout,
    reconnectTimeWait,
    maxReconnectAttempts: -1,
    ...(tls ? { tls } : {}),
    ...options,
  };
  try {
    if (!/^wss?:\/\//i.test(url)) {
      const info = await serverGreets(url, timeout);
      // A server that verifies clients ends a handshake without a certificate silently: say so up front.
      if (info.tls_verify === true && !settings.tls_cert_file) {
        throw new Error(
          "the server requires a client certificate (tls verify): set snake.tls_cert_file and snake.tls_key_file",
        );
      }
      return await connect(connectionOptions);
    }
    // Node 20 has no global WebSocket, and without one wsconnect never settles.
    globalThis.WebSocket ??= (await import("ws")).WebSocket as unknown as typeof WebSocket;
    return await wsconnect(connectionOptions);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint =
      error instanceof errors.TimeoutError
        ? `no answer within ${timeout} ms (snake.connect_timeout)`
        : /authori[sz]ation/i.test(message)
          ? `${message}: the bus runs in operator mode and refused this rack's credentials (a rack without a ` +
            "passport presents snake.enrollment_token, FLUXRIG_SNAKE_ENROLLMENT_TOKEN; one with a passport its bus JWT)"
          : tls && /certificate|tls|ssl|self.signed|ENOENT/i.test(message)
            ? `TLS: ${message} (check snake.tls_ca_file, snake.tls_cert_file and snake.tls_key_file)`
            : `${message} (check snake.url)`;
    throw new Error(`cannot connect to Snake at ${url}: ${hint}`, { cause: error });
  }
}

/**
 * Waits for a NATS server's INFO line on a socket of our own, closed either way, and resolves with what it
 * says. The client's own connect timeout leaves its socket open when a server accepts TCP but does not answer
 * (a frozen or partitioned server): that socket finishes its handshake later and keeps the process alive.
 * Probing first means such attempts leak nothing; the client only dials a server that answered a moment ago.
 */
function serverGreets(url: string, timeoutMs: number): Promise<{ tls_verify?: unknown }> {
  const { hostname, port } = new URL(url.replace(/^tls:/i, "nats:"));
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname.replace(/^\[|\]$/g, ""), port: Number(port || 4222) });
    let received = "";
    const done = (result: Error | { tls_verify?: unknown }) => {
      clearTimeout(timer);
      socket.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const timer = setTimeout(() => done(new errors.TimeoutError()), timeoutMs);
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
      if (!"INFO".startsWith(received.slice(0, 4)) || received.length > 65_536) {
        done(new Error("not a NATS server"));
        return;
      }
      const end = received.indexOf("\r\n");
      if (end < 0) return;
      try {
        done(JSON.parse(received.slice(4, end)) as { tls_verify?: unknown });
      } catch {
        done(new Error("not a NATS server"));
      }
    });
    socket.once("error", (error) => done(error));
    socket.once("close", () => done(new Error("connection closed before the server said INFO")));
  });
}

/**
 * `nc.close()` without the stack nats-core keeps of every close (its "close trace", read at once): in the bundle
 * reading a stack parses its whole source map (bundle-stack-traces.ts; 26 MiB of RSS until the GC takes it back,
 * and kept for good under node --enable-source-maps), so every rack that swaps its enrolment connection would
 * pay it. Stacks are off only for that call.
 *
 * @example await closeSnake(nc);
 */
export function closeSnake(nc: NatsConnection): Promise<void> {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return nc.close();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
