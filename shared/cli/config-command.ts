import type { Command } from "commander";
import type { LoadedConfig } from "../config/load.ts";
import { renderConfigJson, renderConfigSources, renderConfigToml } from "../config/render.ts";

/**
 * Adds `config show [--sources] [--json]` to a binary: the effective config after every layer, secrets
 * masked. This is where an operator looks when a setting "doesn't take".
 */
export function addConfigCommand(
  program: Command,
  load: () => Promise<LoadedConfig<unknown> & { file?: string }>,
  io: { out: (text: string) => void; err: (text: string) => void },
): void {
  const config = program.command("config").description("inspect the configuration");
  config
    .command("show")
    .description("print the effective configuration after defaults, file, environment and flags")
    .option("--sources", "show where each value came from (default, file:line, env var, flag)")
    .option("--json", "print JSON instead of TOML/text")
    .action(async (options: { sources?: boolean; json?: boolean }) => {
      const loaded = await load();
      for (const warning of loaded.warnings) io.err(`warning: ${warning}\n`);
      if (options.json) io.out(renderConfigJson(loaded.entries, options.sources === true));
      else if (options.sources) {
        io.out(`# config file: ${loaded.file ?? "(none found; defaults, environment and flags only)"}\n`);
        io.out(renderConfigSources(loaded.entries));
      } else io.out(renderConfigToml(loaded.entries));
    });
}
