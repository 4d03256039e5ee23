import type { MixerEnv } from "../env.ts";

/** The one Snake bridge of this mixer: a single Durable Object holds the single NATS connection. */
export function snakeBridge(env: MixerEnv) {
  return env.SNAKE_BRIDGE.get(env.SNAKE_BRIDGE.idFromName("snake-bridge"));
}
