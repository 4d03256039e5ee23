/**
 * How a scenario is named where one is picked (`mixer.startup_scenario`, `fluxrig scenario activate`): a
 * stored scenario as `name` or `name:version`, or a YAML file by its path.
 */
export type ScenarioReference =
  | { kind: "file"; path: string }
  | { kind: "stored"; name: string; version?: string };

/**
 * @example parseScenarioReference("card-auth:1.0.0") // { kind: "stored", name: "card-auth", version: "1.0.0" }
 * @example parseScenarioReference("scenario_prod.yaml") // { kind: "file", path: "scenario_prod.yaml" }
 */
export function parseScenarioReference(text: string): ScenarioReference {
  if (/\.ya?ml$/i.test(text) || text.includes("/")) return { kind: "file", path: text };
  const at = text.indexOf(":");
  const version = at < 0 ? "" : text.slice(at + 1);
  return { kind: "stored", name: at < 0 ? text : text.slice(0, at), ...(version ? { version } : {}) };
}
