import type { MixerEnv } from "../env.ts";

/** The one compactor of this mixer: a single Durable Object, so passes never overlap. */
export function storeCompactor(env: MixerEnv) {
  return env.STORE_COMPACTOR.get(env.STORE_COMPACTOR.idFromName("store-compactor"));
}
