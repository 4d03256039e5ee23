import { dirname, join, resolve } from "node:path";
import type { LoadedConfig, RackConfig } from "../../../shared/config/index.ts";
import { createRackLogger, type RackLogger, type RackLoggerOptions } from "./logger.ts";

/** The file the rack agent writes, per the reference's note: `<log_dir>/fluxrig-rack.log`. */
const RACK_LOG_NAME = "fluxrig-rack.log";

/**
 * Where `fluxrig run` writes its JSON lines, or undefined for `logging.filename = ""`. A filename left at its
 * default means the reference's `<log_dir>/fluxrig-rack.log` (log_dir: the default's directory, `logs`); one
 * that was set is used as written. A relative path is under `base.state_dir`, so a rack's files stay together
 * wherever the service manager starts it.
 *
 * @example rackLogFile(loaded) // "/var/lib/fluxrig/data/logs/fluxrig-rack.log"
 */
export function rackLogFile(loaded: LoadedConfig<RackConfig>): string | undefined {
  const { filename } = loaded.config.logging;
  if (filename === "") return undefined;
  const source = loaded.entries.find((entry) => entry.key === "logging.filename")?.source;
  const path = source?.kind === "default" ? join(dirname(filename), RACK_LOG_NAME) : filename;
  return resolve(loaded.config.base.state_dir, path);
}

/**
 * The rack agent's log from its config: `[logging]` (level, file, rotation) and `observability.enabled` (whether
 * its lines also go to telemetry). Console lines go to `console`, coloured on a terminal unless NO_COLOR.
 *
 * @example const log = rackLoggerFromConfig(loaded, { write: (t) => process.stderr.write(t), tty: true, env: process.env });
 */
export function rackLoggerFromConfig(
  loaded: LoadedConfig<RackConfig>,
  console: { write(text: string): void; tty: boolean; env: Record<string, string | undefined> },
  onProblem?: RackLoggerOptions["onProblem"],
): RackLogger {
  const { logging, observability } = loaded.config;
  const path = rackLogFile(loaded);
  return createRackLogger({
    level: logging.level,
    console: { write: console.write, tty: console.tty, color: console.tty && !console.env.NO_COLOR },
    file:
      path === undefined
        ? undefined
        : {
            path,
            maxBytes: logging.max_size_mb * 2 ** 20,
            maxBackups: logging.max_backups,
            compress: logging.compress,
          },
    telemetry: observability.enabled,
    onProblem,
  });
}
