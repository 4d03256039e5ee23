import { readFile } from "node:fs/promises";
import { Command } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { addConfigCommand } from "../../shared/cli/config-command.ts";
import { flagValues } from "../../shared/cli/config-flags.ts";
import { loadConfigFile, mixerConfigSpec } from "../../shared/config/index.ts";
import { MIXER_CONFIG_FLAGS } from "./config-flags.ts";
import { runDev } from "./dev/run-dev.ts";

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

/** Builds the `fluxrig-mixer` program (the Node-side launcher of the mixer Worker). */
export function buildMixerProgram(io: CliIo): Command {
  const program = new Command("fluxrig-mixer")
    .description(
      "fluxrig mixer: the control plane (registry, enrollment, scenarios, telemetry ingest and queries)",
    )
    .version(pkg.version, "-V, --version")
    .option("-c, --config <path>", "config file (default: ./fluxrig-mixer.toml, or FLUXRIG_CONFIG)")
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  for (const flag of MIXER_CONFIG_FLAGS) program.option(flag.syntax, flag.description);
  program.addHelpText(
    "after",
    "\nPrecedence: flags > FLUXRIG_* environment > config file > defaults. See `fluxrig-mixer config show --sources`.",
  );

  const loadMixer = () => {
    const options = program.opts<Record<string, unknown>>();
    return loadConfigFile(mixerConfigSpec, {
      configFlag: options.config as string | undefined,
      env: io.env,
      flags: flagValues(MIXER_CONFIG_FLAGS, options),
      readText: (path) => readFile(path, "utf8"),
    });
  };
  addConfigCommand(program, loadMixer, io);
  program
    .command("dev")
    .description(
      "run the mixer locally: nats-server from [snake] plus the Worker under wrangler dev on api.port",
    )
    .action(async () => {
      const loaded = await loadMixer();
      for (const warning of loaded.warnings) io.err(`warning: ${warning}\n`);
      await runDev(
        {
          loaded,
          ...(loaded.file ? { fileText: await readFile(loaded.file, "utf8") } : {}),
          flags: flagValues(MIXER_CONFIG_FLAGS, program.opts()),
          env: io.env,
          cwd: process.cwd(),
          log: (line) => io.err(`${line}\n`),
        },
        io,
      );
    });
  return program;
}
