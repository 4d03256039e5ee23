import { readFile } from "node:fs/promises";
import { Command } from "commander";
import pkg from "../../../package.json" with { type: "json" };
import { addConfigCommand } from "../../../shared/cli/config-command.ts";
import { flagValues } from "../../../shared/cli/config-flags.ts";
import { loadConfigFile, rackConfigSpec } from "../../../shared/config/index.ts";
import { RACK_CONFIG_FLAGS } from "./config-flags.ts";
import { addEmitCommand } from "./emit-command.ts";
import { addRacksCommand } from "./racks-command.ts";
import { addRunCommand } from "./run-command.ts";
import { addLogsCommand } from "./telemetry/logs-command.ts";
import { addMetricsCommand } from "./telemetry/metrics-command.ts";
import { addTracesCommand } from "./telemetry/traces-command.ts";

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Whether stderr is a terminal: progress lines and colours only then. */
  isTTY: boolean;
}

/** Builds the `fluxrig` program. Commands load the rack config lazily, so `--help` never fails on a bad file. */
export function buildRackProgram(io: CliIo): Command {
  const program = new Command("fluxrig")
    .description("fluxrig rack agent: runs gears at the edge and talks to the mixer over Snake (NATS)")
    .version(pkg.version, "-V, --version")
    .option("-c, --config <path>", "config file (default: ./fluxrig.toml, or FLUXRIG_CONFIG)")
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  for (const flag of RACK_CONFIG_FLAGS) program.option(flag.syntax, flag.description);
  program.addHelpText(
    "after",
    "\nPrecedence: flags > FLUXRIG_* environment > config file > defaults. See `fluxrig config show --sources`.",
  );

  const loadRack = () => {
    const options = program.opts<Record<string, unknown>>();
    return loadConfigFile(rackConfigSpec, {
      configFlag: options.config as string | undefined,
      env: io.env,
      flags: flagValues(RACK_CONFIG_FLAGS, options),
      readText: (path) => readFile(path, "utf8"),
    });
  };
  addConfigCommand(program, loadRack, io);
  addEmitCommand(program, loadRack, io);
  addRunCommand(program, loadRack, io);
  addRacksCommand(program, loadRack, io);
  addLogsCommand(program, loadRack, io);
  addMetricsCommand(program, loadRack, io);
  addTracesCommand(program, loadRack, io);
  return program;
}
