import { type ConnectionOptions, errors, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { RackConfig } from "../../../shared/config/index.ts";

/** The `[snake]` fields a connection needs; durations in milliseconds, as the config loader gives them. */
export type SnakeConnectSettings = Pick<RackConfig["snake"], "url" | "connect_timeout" | "reconnect_wait">;

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
  options: { name?: string } = {},
): Promise<NatsConnection> {
  const { url, connect_timeout: timeout, reconnect_wait: reconnectTimeWait } = settings;
  const connectionOptions: ConnectionOptions = {
    servers: url,
    timeout,
    reconnectTimeWait,
    maxReconnectAttempts: -1,
    ...options,
  };
  try {
    if (!/^wss?:\/\//i.test(url)) return await connect(connectionOptions);
    // Node 20 has no global WebSocket, and without one wsconnect never settles.
    globalThis.WebSocket ??= (await import("ws")).WebSocket as unknown as typeof WebSocket;
    return await wsconnect(connectionOptions);
  } catch (error) {
    const hint =
      error instanceof errors.TimeoutError
        ? `no answer within ${timeout} ms (snake.connect_timeout)`
        : `${error instanceof Error ? error.message : String(error)} (check snake.url)`;
    throw new Error(`cannot connect to Snake at ${url}: ${hint}`, { cause: error });
  }
}
