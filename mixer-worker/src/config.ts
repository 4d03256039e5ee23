import {
  type FlagValue,
  type LoadedConfig,
  loadConfig,
  type MixerConfig,
  mixerConfigSchema,
} from "../../shared/config/index.ts";
import type { MixerEnv } from "./env.ts";
import { setConsoleLevel } from "./self/console-line.ts";

const cache = new WeakMap<MixerEnv, LoadedConfig<MixerConfig>>();

/**
 * The mixer's config inside the Worker, loaded through the same engine as `fluxrig-mixer config show`:
 * the TOML text, the string bindings as the environment (FLUXRIG_* settings, and whatever `${VAR}` the file
 * refers to), and the launcher's flags on top. Loaded once per bindings object (they do not change while an
 * isolate lives).
 *
 * @example const { config } = mixerConfig(c.env);
 */
export function mixerConfig(env: MixerEnv): LoadedConfig<MixerConfig> {
  const hit = cache.get(env);
  if (hit) return hit;
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === "string") vars[name] = value;
  const flags = env.MIXER_CONFIG_FLAGS ? (JSON.parse(env.MIXER_CONFIG_FLAGS) as FlagValue[]) : [];
  const loaded = loadConfig(mixerConfigSchema, {
    env: vars,
    flags,
    ...(env.MIXER_CONFIG_TOML
      ? { file: { path: env.MIXER_CONFIG_PATH ?? "fluxrig-mixer.toml", text: env.MIXER_CONFIG_TOML } }
      : {}),
  });
  cache.set(env, loaded);
  setConsoleLevel(loaded.config.logging.level);
  return loaded;
}
