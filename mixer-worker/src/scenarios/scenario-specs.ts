import { BUILT_IN_GEAR_TYPES } from "../../../shared/gears/catalogue.ts";
import { gearSpecReferences, type Scenario, validateScenario } from "../../../shared/scenario/index.ts";
import { type FluxSpec, parseSpecReference } from "../../../shared/spec/index.ts";
import type { MixerEnv } from "../env.ts";
import { ProblemError } from "../http/problem.ts";
import type { ScenarioRow } from "../registry/scenarios.ts";
import { findSpec, heldSpecVersions, specOf } from "../registry/specs.ts";

/**
 * The specs a stored scenario's gears name, resolved now (`visa-v1` is the version imported last): what each
 * rack's part carries. A reference the mixer cannot resolve is a 409 listing, at their lines in the
 * scenario's file, every gear naming a spec it does not hold.
 *
 * @example const specs = await scenarioSpecs(env, row, scenarioOf(row));
 */
export async function scenarioSpecs(
  env: MixerEnv,
  row: ScenarioRow,
  scenario: Scenario,
): Promise<Map<string, FluxSpec>> {
  const references = new Set(
    scenario.gears.flatMap((gear) => gearSpecReferences(gear, BUILT_IN_GEAR_TYPES).map((r) => r.reference)),
  );
  const specs = new Map<string, FluxSpec>();
  for (const reference of references) {
    const { id, version } = parseSpecReference(reference);
    const found = await findSpec(env.REGISTRY, id, version);
    if (found) specs.set(reference, specOf(found));
  }
  if (specs.size === references.size) return specs;
  const file = `${row.name}.yaml`;
  const result = validateScenario(row.yaml, { file, specs: await heldSpecVersions(env.REGISTRY) });
  const problems = result.ok ? [] : result.problems;
  throw new ProblemError({
    title: "Conflict",
    status: 409,
    parameter: "name",
    detail: `scenario ${row.name} ${row.version} names specs the mixer does not hold:\n${problems
      .map((p) => `${p.file}:${p.line}:${p.col} ${p.path}: ${p.message}`)
      .join("\n")}`,
    problems,
  });
}
