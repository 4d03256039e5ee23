import { parseScenarioReference, scenarioHash, validateScenario } from "../../../shared/scenario/index.ts";
import { mixerConfig } from "../config.ts";
import type { MixerEnv } from "../env.ts";
import { findScenario, insertScenario } from "../registry/scenarios.ts";
import { activateScenario, type PartDelivery } from "./activate.ts";

/**
 * Activates `mixer.startup_scenario` when the mixer comes up: a stored scenario by `name` or
 * `name:version`, or a YAML file, which the launcher (`fluxrig-mixer dev`) reads and hands over as
 * MIXER_STARTUP_SCENARIO_BASE64 since a Worker has no file system; it is imported first. Racks that are
 * not connected yet get their parts with their next heartbeat. Resolves with what it did, for the log.
 *
 * @example console.log(await activateStartupScenario(env, { passport: control.deliverPassport, scenario: control.deliverScenario }));
 */
export async function activateStartupScenario(
  env: MixerEnv,
  deliver: PartDelivery,
): Promise<string | undefined> {
  const reference = mixerConfig(env).config.mixer.startup_scenario;
  if (!reference) return undefined;
  const parsed = parseScenarioReference(reference);
  let name: string;
  let version: string | undefined;
  if (parsed.kind === "file") {
    const encoded = env.MIXER_STARTUP_SCENARIO_BASE64;
    if (typeof encoded !== "string") {
      return `mixer.startup_scenario = "${reference}" names a file, which only fluxrig-mixer dev can read: import it (fluxrig scenario import) and name it instead`;
    }
    const text = new TextDecoder().decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)));
    const result = validateScenario(text, { file: reference });
    if (!result.ok) {
      const first = result.problems[0];
      return `mixer.startup_scenario ${reference} is not valid (${result.problems.length} problems; first: ${first?.file}:${first?.line}:${first?.col} ${first?.path}: ${first?.message})`;
    }
    const outcome = await insertScenario(
      env.REGISTRY,
      result.scenario,
      await scenarioHash(result.scenario),
      text,
      Date.now(),
    );
    if (outcome === "conflict") {
      return `mixer.startup_scenario ${reference}: ${result.scenario.meta.name} ${result.scenario.meta.version} is stored with other content; raise meta.version`;
    }
    ({ name, version } = result.scenario.meta);
  } else ({ name, version } = parsed);
  const row = await findScenario(env.REGISTRY, name, version);
  if (!row)
    return `mixer.startup_scenario names ${reference}, which is not stored (fluxrig scenario import FILE)`;
  const report = await activateScenario(env, row, { waitMs: 0, deliver });
  return `startup scenario ${row.name} ${row.version} activated on ${report.racks.filter((r) => r.id).length} racks`;
}
