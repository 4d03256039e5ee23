import { readFile, stat } from "node:fs/promises";
import { Command, InvalidArgumentError } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { flagValues } from "../../shared/cli/config-flags.ts";
import { configureProgram, type ProgramIo } from "../../shared/cli/configured-program.ts";
import { parseDuration } from "../../shared/config/duration.ts";
import { mixerConfigSpec } from "../../shared/config/index.ts";
import { levelEnabled } from "../src/self/console-line.ts";
import { MIXER_CONFIG_FLAGS } from "./config-flags.ts";
import { addDeployCommand } from "./deploy/deploy-command.ts";
import { runDev } from "./dev/run-dev.ts";
import { addKeysCommand } from "./keys/keys-command.ts";

export type CliIo = ProgramIo & { stdoutIsTty?: boolean };

/** Builds the `fluxrig-mixer` program (the Node-side launcher of the mixer Worker). */
export function buildMixerProgram(io: CliIo): Command {
  const program = new Command("fluxrig-mixer").description(
    "fluxrig mixer: the control plane (registry, enrollment, scenarios, telemetry ingest and queries)",
  );
  const loadMixer = configureProgram(program, {
    spec: mixerConfigSpec,
    flags: MIXER_CONFIG_FLAGS,
    version: pkg.version,
    io,
    files: { stat, readText: (path) => readFile(path, "utf8") },
  });
  program
    .command("dev")
    .description(
      "run the mixer locally: nats-server from [snake] plus the Worker under wrangler dev on api.port",
    )
    .option(
      "--drain-timeout <duration>",
      "on Ctrl-C, how long to wait for the bridge to write what the bus holds to R2 before stopping anyway",
      drainTimeout,
      60_000,
    )
    .action(async (options: { drainTimeout: number }) => {
      const loaded = await loadMixer();
      for (const warning of loaded.warnings) io.err(`warning: ${warning}\n`);
      await runDev(
        {
          loaded,
          ...(loaded.file ? { fileText: await readFile(loaded.file, "utf8") } : {}),
          flags: flagValues(MIXER_CONFIG_FLAGS, program.opts()),
          env: io.env,
          cwd: process.cwd(),
          // The launcher's lines honour logging.level as the Worker's do.
          log: (line, level = "info") => {
            if (levelEnabled(loaded.config.logging.level, level)) io.err(`${line}\n`);
          },
        },
        io,
        { drainTimeoutMs: options.drainTimeout },
      );
    });
  addKeysCommand(program, loadMixer, { ...io, stdoutIsTty: io.stdoutIsTty === true });
  addDeployCommand(program, loadMixer, () => flagValues(MIXER_CONFIG_FLAGS, program.opts()), io);
  return program;
}

function drainTimeout(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.error);
  if (parsed.ms < 1_000 || parsed.ms > 3_600_000)
    throw new InvalidArgumentError("expected between 1s and 1h");
  return parsed.ms;
}
