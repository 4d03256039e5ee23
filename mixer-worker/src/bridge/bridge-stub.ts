import type { MixerEnv } from "../env.ts";

/**
 * The main Snake bridge of this mixer: it holds the control plane, revocations, retention and the mixer's own
 * telemetry, and is ingest bridge 0.
 */
export function snakeBridge(env: MixerEnv) {
  return env.SNAKE_BRIDGE.get(env.SNAKE_BRIDGE.idFromName("snake-bridge"));
}

/**
 * Ingest bridge `index` (1 to `ingest.bridges` - 1): another instance of the same Durable Object that only
 * pulls the ingest consumers beside bridge 0, on its own connection, and writes its own objects.
 */
export function ingestBridge(env: MixerEnv, index: number) {
  return env.SNAKE_BRIDGE.get(env.SNAKE_BRIDGE.idFromName(`snake-bridge-${index}`));
}
