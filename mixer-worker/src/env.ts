import type { SnakeBridge } from "./bridge/snake-bridge.ts";
import type { StoreCompactor } from "./compactor/store-compactor.ts";

/** The mixer Worker's bindings (wrangler.toml) and variables. */
export interface MixerEnv {
  REGISTRY: D1Database;
  TELEMETRY: R2Bucket;
  SNAKE_BRIDGE: DurableObjectNamespace<SnakeBridge>;
  STORE_COMPACTOR: DurableObjectNamespace<StoreCompactor>;
  /** Text of fluxrig-mixer.toml, passed in by `fluxrig-mixer dev` or set at deploy time. */
  MIXER_CONFIG_TOML?: string;
  /** The name errors cite for that text. */
  MIXER_CONFIG_PATH?: string;
  /** JSON array of the launcher's flag values (`FlagValue[]`): the top precedence layer. */
  MIXER_CONFIG_FLAGS?: string;
  /** Secret: the cluster key that signs passports, a private Ed25519 JWK (never in TOML, never logged). */
  MIXER_CLUSTER_KEY?: string;
  /**
   * The file `mixer.startup_scenario` names, base64 (any bytes survive the env file), read by
   * `fluxrig-mixer dev`: a Worker has no file system.
   */
  MIXER_STARTUP_SCENARIO_BASE64?: string;
  /** FLUXRIG_* variables and secrets (including FLUXRIG_API_TOKEN) arrive as further string bindings. */
  [name: string]: unknown;
}

export type MixerBindings = { Bindings: MixerEnv };
