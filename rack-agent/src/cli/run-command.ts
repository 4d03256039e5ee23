import type { Command } from "commander";
import pkg from "../../../package.json" with { type: "json" };
import type { LoadedConfig, RackConfig } from "../../../shared/config/index.ts";
import { runRackAgent } from "../agent/rack-agent.ts";
import { rackLoggerFromConfig } from "../log/index.ts";

/**
 * `fluxrig run`: starts the rack agent in the foreground and runs it until Ctrl-C (SIGINT) or SIGTERM,
 * then stops it cleanly (exit 0). Log lines go to stderr (human lines on a terminal), as JSON lines to the
 * rotated `logging.filename`, and into the rack's telemetry.
 */
export function addRunCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: { err: (text: string) => void; isTTY: boolean; env: Record<string, string | undefined> },
): void {
  program
    .command("run")
    .description("run the rack agent: enroll with the mixer, follow its passport, send heartbeats")
    .action(async () => {
      const loaded = await loadRack();
      const log = rackLoggerFromConfig(loaded, { write: io.err, tty: io.isTTY, env: io.env });
      for (const warning of loaded.warnings) log.warn(warning);
      const controller = new AbortController();
      const stop = (signal: NodeJS.Signals) => {
        log.info(`${signal}: stopping`);
        controller.abort();
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        await runRackAgent({ loaded, log, signal: controller.signal, agentVersion: pkg.version });
      } catch (error) {
        // A failure caused by stopping mid-start is a clean stop.
        if (!controller.signal.aborted) throw error;
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        await log.close();
      }
    });
}
