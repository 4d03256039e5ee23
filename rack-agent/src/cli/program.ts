import { readFile, stat } from "node:fs/promises";
import { Command } from "commander";
import pkg from "../../../package.json" with { type: "json" };
import { configureProgram, type ProgramIo } from "../../../shared/cli/configured-program.ts";
import { rackConfigSpec } from "../../../shared/config/index.ts";
import type { CliLog } from "./cli-log.ts";
import { RACK_CONFIG_FLAGS } from "./config-flags.ts";
import { addEmitCommand } from "./emit-command.ts";
import { addFluxCommand } from "./messages/flux-command.ts";
import { addMessagesCommand } from "./messages/messages-command.ts";
import { addRacksCommand } from "./racks-command.ts";
import { addRunCommand } from "./run-command.ts";
import { addScenarioApiCommands } from "./scenario-api-commands.ts";
import { addScenarioCommand } from "./scenario-command.ts";
import { addSpecCommand } from "./spec-command.ts";
import { addStatusCommand } from "./status-command.ts";
import { addLogsCommand } from "./telemetry/logs-command.ts";
import { addMetricsCommand } from "./telemetry/metrics-command.ts";
import { addTracesCommand } from "./telemetry/traces-command.ts";
import { addTokensCommand } from "./tokens-command.ts";

export interface CliIo extends ProgramIo {
  /** Whether stderr is a terminal: progress lines and colours only then. */
  isTTY: boolean;
  /** Opened once a command loaded its config with `logging.filename` set; `err` should feed it. */
  cliLog?: CliLog;
}

/** Builds the `fluxrig` program. Commands load the rack config lazily, so `--help` never fails on a bad file. */
export function buildRackProgram(io: CliIo): Command {
  const program = new Command("fluxrig").description(
    "fluxrig rack agent: runs gears at the edge and talks to the mixer over Snake (NATS)",
  );
  const loadConfig = configureProgram(program, {
    spec: rackConfigSpec,
    flags: RACK_CONFIG_FLAGS,
    version: pkg.version,
    io,
    files: { stat, readText: (path) => readFile(path, "utf8") },
  });
  let command = "";
  program.hook("preAction", (_, action) => {
    for (let c: Command | null = action; c && c !== program; c = c.parent)
      command = `${c.name()} ${command}`.trim();
  });
  // `fluxrig run` logs to fluxrig-rack.log; every other command to fluxrig-cli.log when logging.filename is set.
  const loadRack = async () => {
    const loaded = await loadConfig();
    if (command !== "run") io.cliLog?.open(loaded, command);
    return loaded;
  };
  addEmitCommand(program, loadRack, io);
  addRunCommand(program, loadRack, io);
  addStatusCommand(program, loadRack, io);
  addScenarioApiCommands(addScenarioCommand(program, io), loadRack, io);
  addSpecCommand(program, loadRack, io);
  addRacksCommand(program, loadRack, io);
  addLogsCommand(program, loadRack, io);
  addMetricsCommand(program, loadRack, io);
  addTracesCommand(program, loadRack, io);
  addTokensCommand(program, loadRack, io);
  addMessagesCommand(program, loadRack, io);
  addFluxCommand(program, loadRack, io);
  return program;
}
