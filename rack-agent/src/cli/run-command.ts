import type { Command } from "commander";
import pkg from "../../../package.json" with { type: "json" };
import type { LoadedConfig, RackConfig } from "../../../shared/config/index.ts";
import { runRackAgent } from "../agent/rack-agent.ts";
import { RecentProblems } from "../agent/status-file.ts";
import { rackLoggerFromConfig } from "../log/index.ts";

/**
 * How long a stop may take: gears drain (at most 5 s for lane publishes), then telemetry is flushed to the bus
 * or the spool (a publish times out after 5 s). Past it the agent exits 1 and says so, so a service manager
 * never waits on a hung stop.
 */
export const STOP_DEADLINE_MS = 30_000;

/**
 * `fluxrig run`: starts the rack agent in the foreground and runs it until Ctrl-C (SIGINT) or SIGTERM,
 * then stops it cleanly (exit 0). SIGHUP reloads the config. Log lines go to stderr (human lines on a
 * terminal), as JSON lines to the rotated `logging.filename`, and into the rack's telemetry.
 */
export function addRunCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: { err: (text: string) => void; isTTY: boolean; env: Record<string, string | undefined> },
): void {
  program
    .command("run")
    .description(
      "run the rack agent: enroll with the mixer, follow its passport, send heartbeats (SIGHUP reloads the config)",
    )
    .action(async () => {
      const loaded = await loadRack();
      const problems = new RecentProblems();
      const log = rackLoggerFromConfig(loaded, { write: io.err, tty: io.isTTY, env: io.env }, (line) =>
        problems.push(line),
      );
      for (const warning of loaded.warnings) log.warn(warning);
      const controller = new AbortController();
      let deadline: ReturnType<typeof setTimeout> | undefined;
      const stop = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) return;
        log.info(`${signal}: stopping (draining gears, flushing telemetry)`);
        controller.abort();
        deadline = setTimeout(() => {
          log.error(`${signal}: the stop took more than ${STOP_DEADLINE_MS / 1000} s; exiting now`);
          process.exit(1);
        }, STOP_DEADLINE_MS);
        deadline.unref();
      };
      const reloads = new EventTarget();
      const hangup = () => {
        log.info("SIGHUP: reloading the config");
        reloads.dispatchEvent(new Event("reload"));
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      process.on("SIGHUP", hangup);
      try {
        await runRackAgent({
          loaded,
          log,
          signal: controller.signal,
          agentVersion: pkg.version,
          problems,
          reloads,
          reload: loadRack,
        });
      } catch (error) {
        // A failure caused by stopping mid-start is a clean stop.
        if (!controller.signal.aborted) throw error;
      } finally {
        clearTimeout(deadline);
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        process.off("SIGHUP", hangup);
        await log.close();
      }
    });
}
