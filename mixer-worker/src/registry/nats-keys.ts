import { NATS_KEYS_SECRET, type NatsKeys, parseNatsKeys } from "../../../shared/nats-auth/index.ts";
import { mixerConfig } from "../config.ts";
import type { MixerEnv } from "../env.ts";

let cached: { text: string; keys: NatsKeys } | undefined;

/**
 * The bus's signing keys from the `MIXER_NATS_KEYS` secret when `snake.auth = "jwt"`, else undefined (an open
 * bus: no JWTs are issued). Parsed once per isolate. A missing or bad secret under `jwt` throws, naming it:
 * issuing passports without bus credentials would lock every rack out of the bus.
 *
 * @example const keys = natsKeys(env); if (keys) jwt = await userJwt(keys, …);
 */
export function natsKeys(env: MixerEnv): NatsKeys | undefined {
  if (mixerConfig(env).config.snake.auth !== "jwt") return undefined;
  const text = typeof env[NATS_KEYS_SECRET] === "string" ? (env[NATS_KEYS_SECRET] as string).trim() : "";
  if (!text) {
    throw new Error(
      `snake.auth = "jwt" but the ${NATS_KEYS_SECRET} secret is not set (fluxrig-mixer dev makes one under store.dir; fluxrig-mixer keys init prints one)`,
    );
  }
  if (cached?.text !== text) cached = { text, keys: parseNatsKeys(text, NATS_KEYS_SECRET) };
  return cached.keys;
}
