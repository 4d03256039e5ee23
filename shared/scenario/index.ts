/** Scenarios: the YAML format, its validator, content hash and per-rack parts. The one face of this folder. */
export type { Lane, RackTarget, Scenario, ScenarioGear, ScenarioWire, WireEnd } from "./model.ts";
export { formatWireEnd, LANES, scenarioSchema } from "./model.ts";
export type { PartGear, ScenarioPart, ScenarioPartOptions } from "./part.ts";
export {
  activationHash,
  laneDurable,
  scenarioHash,
  scenarioPart,
  scenarioPartSchema,
} from "./part.ts";
export { parseScenarioReference, type ScenarioReference } from "./reference.ts";
export { laneSubjectFor, ownLaneInput } from "./returning-lanes.ts";
export type { ScenarioProblem } from "./scenario-error.ts";
export { formatProblem } from "./scenario-error.ts";
export { type GearSpecReference, gearSpecReferences } from "./spec-references.ts";
export type { ScenarioValidation, ValidateScenarioOptions } from "./validate.ts";
export { validateScenario } from "./validate.ts";
