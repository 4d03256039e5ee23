import { dirname, join, resolve } from "node:path";
import type { LoadedConfig, RackConfig } from "../../../shared/config/index.ts";
import { createRackLogger, type RackLogger } from "../log/index.ts";

/** The CLI's file, per the reference's note: `<log_dir>/fluxrig-cli.log`, beside the rack's. */
const CLI_LOG_NAME = "fluxrig-cli.log";

/**
 * Where the CLI's commands log, or undefined: only when `logging.filename` was set (the reference's "if
 * enabled"), in that file's directory, relative to `base.state_dir` as the rack's file is.
 *
 * @example cliLogFile(loaded) // "/var/log/fluxrig/fluxrig-cli.log" for filename = "/var/log/fluxrig/rack.log"
 */
export function cliLogFile(loaded: LoadedConfig<RackConfig>): string | undefined {
  const { filename } = loaded.config.logging;
  const source = loaded.entries.find((entry) => entry.key === "logging.filename")?.source;
  if (filename === "" || source === undefined || source.kind === "default") return undefined;
  return join(dirname(resolve(loaded.config.base.state_dir, filename)), CLI_LOG_NAME);
}

/**
 * The CLI's log file: which command ran, the warnings and errors it printed on stderr, and how it exited, as
 * JSON lines rotated as `[logging]` says. Opened once a command has loaded its config (there is no file
 * before); `fluxrig run` keeps its own log (fluxrig-rack.log) and never opens this one.
 *
 * @example const cliLog = new CliLog(); cliLog.open(loaded, "racks list"); cliLog.stderr("warning: …\n");
 */
export class CliLog {
  #log: RackLogger | undefined;
  #command = "";

  open(loaded: LoadedConfig<RackConfig>, command: string): void {
    const path = cliLogFile(loaded);
    if (this.#log || path === undefined) return;
    const { logging } = loaded.config;
    this.#command = command;
    this.#log = createRackLogger({
      level: logging.level,
      telemetry: false,
      file: {
        path,
        maxBytes: logging.max_size_mb * 2 ** 20,
        maxBackups: logging.max_backups,
        compress: logging.compress,
      },
    });
    this.#log.info(`fluxrig ${command}`, { command });
  }

  /** What the command wrote on stderr (already free of URL credentials), one record per line. */
  stderr(text: string): void {
    if (!this.#log) return;
    for (const raw of text.split(/[\r\n]+/)) {
      const line = raw.trim();
      if (line === "") continue;
      const attributes = { command: this.#command };
      // Errors come as "fluxrig: …" (run-cli.ts), warnings as "warning: …"; the rest is progress.
      if (/^warning:/i.test(line)) this.#log.warn(line.replace(/^warning:\s*/i, ""), attributes);
      else if (line.startsWith("fluxrig:")) this.#log.error(line.slice("fluxrig:".length).trim(), attributes);
      else this.#log.info(line, attributes);
    }
  }

  async close(exitCode: number): Promise<void> {
    const log = this.#log;
    if (!log) return;
    this.#log = undefined;
    log.info(`fluxrig ${this.#command}: exit ${exitCode}`, { command: this.#command, exit_code: exitCode });
    await log.close();
  }
}
