import type { Command } from "commander";
import pkg from "../../../package.json" with { type: "json" };
import type { LoadedConfig, RackConfig } from "../../../shared/config/index.ts";
import { redactUrls } from "../../../shared/redact/url-credentials.ts";
import { runRackAgent } from "../agent/rack-agent.ts";

/**
 * `fluxrig run`: starts the rack agent in the foreground and runs it until Ctrl-C (SIGINT) or SIGTERM,
 * then stops it cleanly (exit 0). Log lines go to stderr.
 */
export function addRunCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: { err: (text: string) => void },
): void {
  program
    .command("run")
    .description("run the rack agent: enroll with the mixer, follow its passport, send heartbeats")
    .action(async () => {
      const loaded = await loadRack();
      // Lines quote snake.url, which may carry credentials (nats://user:pass@host).
      const line = (level: string) => (message: string) =>
        io.err(`${new Date().toISOString()} ${level} ${redactUrls(message)}\n`);
      const log = { info: line("info"), warn: line("warn") };
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
      }
    });
}
