import type { ConfigEntry, LoadedConfig, RackConfig } from "../../../shared/config/index.ts";
import { quoteValue } from "../../../shared/config/shown-value.ts";

/**
 * Keys a running agent applies when its config file is reloaded (SIGHUP): the log level (with its trace and
 * debug overrides), gear log throttling and trace sampling. Every other key is read once, at start.
 */
export const LIVE_KEYS: ReadonlySet<string> = new Set([
  "logging.level",
  "logging.trace",
  "logging.debug",
  "logging.throttling.enabled",
  "logging.throttling.rate",
  "logging.throttling.burst",
  "observability.sampling_rate",
]);

/** `key (old → new)`, or `key (changed)` for a secret, whose values are never printed. */
export interface ConfigChange {
  key: string;
  text: string;
}

export interface ConfigChanges {
  /** Changed keys in {@link LIVE_KEYS}: apply them now. */
  live: ConfigChange[];
  /** Changed keys the agent reads only at start. */
  restart: ConfigChange[];
}

/**
 * What differs between two loads of the rack's config (file, environment and flags), split into what a
 * running agent can apply and what needs a restart.
 *
 * @example const { live, restart } = configChanges(running, await loadRack());
 */
export function configChanges(
  before: LoadedConfig<RackConfig>,
  after: LoadedConfig<RackConfig>,
): ConfigChanges {
  const old = new Map(before.entries.map((entry) => [entry.key, entry]));
  const changes: ConfigChanges = { live: [], restart: [] };
  for (const entry of after.entries) {
    const was = old.get(entry.key);
    if (was && JSON.stringify(was.value) === JSON.stringify(entry.value)) continue;
    const change = { key: entry.key, text: describe(entry.key, was, entry) };
    (LIVE_KEYS.has(entry.key) ? changes.live : changes.restart).push(change);
  }
  return changes;
}

function describe(key: string, was: ConfigEntry | undefined, now: ConfigEntry): string {
  if (was?.secret || now.secret) return `${key} (changed)`;
  const shown = (entry: ConfigEntry | undefined) =>
    entry === undefined ? "unset" : quoteValue(entry.written ?? entry.value);
  return `${key} (${shown(was)} → ${shown(now)})`;
}
