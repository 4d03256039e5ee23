import type { Command } from "commander";
import type { z } from "zod";
import type { ConfigFiles, ConfigSpec } from "../config/config-file.ts";
import { loadConfigFile } from "../config/config-file.ts";
import type { LoadedConfig } from "../config/load.ts";
import { redactUrls } from "../redact/url-credentials.ts";
import { addConfigCommand } from "./config-command.ts";
import { type ConfigFlag, flagValues } from "./config-flags.ts";

export interface ProgramIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

/**
 * Gives a binary what both `fluxrig` and `fluxrig-mixer` share: --version, --config, the flags that set
 * config keys, usage errors that exit 2 with a suggestion, `config show`, and a help text on precedence.
 * Returns the loader commands call; it reads the config lazily, so `--help` never fails on a bad file.
 *
 * @example const loadRack = configureProgram(new Command("fluxrig"), { spec: rackConfigSpec, flags, version, io, files });
 */
export function configureProgram<S extends z.ZodObject>(
  program: Command,
  options: {
    spec: ConfigSpec<S>;
    flags: readonly ConfigFlag[];
    version: string;
    io: ProgramIo;
    /** How the config file is found and read (stat first, so a FIFO or a device is never opened). */
    files: ConfigFiles;
  },
): () => Promise<LoadedConfig<z.infer<S>> & { file?: string }> {
  const { spec, flags, io } = options;
  program
    .version(options.version, "-V, --version")
    .option("-c, --config <path>", `config file (default: ./${spec.fileName}, or FLUXRIG_CONFIG)`)
    .showSuggestionAfterError(true)
    // Usage errors quote what was typed, which may be a URL with credentials in it.
    .configureOutput({ writeOut: io.out, writeErr: (text) => io.err(redactUrls(text)) })
    .exitOverride();
  for (const flag of flags) program.option(flag.syntax, flag.description);
  program.addHelpText(
    "after",
    [
      "",
      "Precedence: flags > FLUXRIG_* environment > config file > defaults.",
      "FLUXRIG_TRACE / FLUXRIG_DEBUG (and logging.trace / logging.debug) force the log level over all of them.",
      `See \`${program.name()} config show --sources\` for each value and where it came from.`,
    ].join("\n"),
  );
  const load = () => {
    const values = program.opts<Record<string, unknown>>();
    return loadConfigFile(spec, {
      configFlag: values.config as string | undefined,
      env: io.env,
      flags: flagValues(flags, values),
      files: options.files,
    });
  };
  addConfigCommand(program, load, io);
  return load;
}
