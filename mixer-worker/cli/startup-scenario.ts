import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { MixerConfig } from "../../shared/config/index.ts";
import { parseScenarioReference } from "../../shared/scenario/index.ts";

/**
 * The file `mixer.startup_scenario` names, base64, for the Worker's `MIXER_STARTUP_SCENARIO_BASE64` (a Worker
 * has no file system); undefined when it names none or a stored scenario.
 */
export async function startupScenarioBase64(config: MixerConfig, cwd: string): Promise<string | undefined> {
  const startup = parseScenarioReference(config.mixer.startup_scenario);
  if (!config.mixer.startup_scenario || startup.kind !== "file") return undefined;
  const path = resolve(cwd, startup.path);
  const text = await readFile(path).catch((error: Error) => {
    throw new Error(`mixer.startup_scenario names ${path}, which cannot be read: ${error.message}`);
  });
  return text.toString("base64");
}
