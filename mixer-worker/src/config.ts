import {
  type FlagValue,
  type LoadedConfig,
  loadConfig,
  type MixerConfig,
  mixerConfigSchema,
} from "../../shared/config/index.ts";
import type { MixerEnv } from "./env.ts";

let cached: { key: MixerEnv; loaded: LoadedConfig<MixerConfig> } | undefined;

/**
 * The mixer's config inside the Worker, loaded through the same engine as `fluxrig-mixer config show`:
 * the TOML text, the FLUXRIG_* bindings as the environment layer, and the launcher's flags on top. Loaded
 * once per isolate (the bindings do not change while it lives).
 *
 * @example const { config } = mixerConfig(c.env);
 */
export function mixerConfig(env: MixerEnv): LoadedConfig<MixerConfig> {
  if (cached?.key === env) return cached.loaded;
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith("FLUXRIG_") && typeof value === "string") vars[name] = value;
  }
  const flags = env.MIXER_CONFIG_FLAGS ? (JSON.parse(env.MIXER_CONFIG_FLAGS) as FlagValue[]) : [];
  const loaded = loadConfig(mixerConfigSchema, {
    env: vars,
    flags,
    ...(env.MIXER_CONFIG_TOML
      ? { file: { path: env.MIXER_CONFIG_PATH ?? "fluxrig-mixer.toml", text: env.MIXER_CONFIG_TOML } }
      : {}),
  });
  cached = { key: env, loaded };
  return loaded;
}
