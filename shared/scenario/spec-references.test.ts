import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { validateSpec } from "../spec/validate.ts";
import { activationHash, scenarioHash, scenarioPart } from "./part.ts";
import { formatProblem } from "./scenario-error.ts";
import { validateScenario } from "./validate.ts";

const file = "examples/scenarios/visa-auth.yaml";
const text = await readFile(file, "utf8");
const specText = await readFile("examples/specs/visa-v1.yaml", "utf8");

function visa(version = "1.0.0") {
  const result = validateSpec(specText.replace("version: 1.0.0", `version: ${version}`));
  if (!result.ok) throw new Error("visa-v1 does not validate");
  return result.spec;
}

describe("scenarios naming fluxSpecs", () => {
  it("are valid offline, where specs are not known", () => {
    expect(validateScenario(text, { file }).ok).toBe(true);
  });

  it("name a spec the mixer does not hold, or a version it lacks: refused at the gear's config line", () => {
    const none = validateScenario(text, { file, specs: new Map([["visa-v2", ["1"]]]) });
    expect(none.ok ? [] : none.problems.map(formatProblem)).toEqual([
      `${file}:20:21 gears.decode.config.spec: unknown spec "visa-v1" (did you mean "visa-v2"?); known: visa-v2 (fluxrig spec import FILE)`,
    ]);
    const pinned = text.replace("spec: visa-v1 }", "spec: visa-v1:2.0.0 }");
    const missing = validateScenario(pinned, { file, specs: new Map([["visa-v1", ["1.0.0"]]]) });
    expect(missing.ok ? [] : missing.problems.map(formatProblem)).toEqual([
      `${file}:20:21 gears.decode.config.spec: spec visa-v1 has no version 2.0.0; the mixer holds 1.0.0`,
    ]);
    expect(validateScenario(pinned, { file, specs: new Map([["visa-v1", ["1.0.0", "2.0.0"]]]) }).ok).toBe(
      true,
    );
  });

  it("carry the specs in the part, and a new spec version restarts only the gears that read it", async () => {
    const result = validateScenario(text, { file });
    if (!result.ok) throw new Error("invalid");
    const v1 = await scenarioPart(result.scenario, "edge", { specs: new Map([["visa-v1", visa()]]) });
    expect(Object.keys(v1.specs)).toEqual(["visa-v1"]);
    expect(v1.specs["visa-v1"]?.spec.version).toBe("1.0.0");
    const v2 = await scenarioPart(result.scenario, "edge", { specs: new Map([["visa-v1", visa("1.0.1")]]) });
    const changed = v1.gears.filter((g, i) => g.hash !== v2.gears[i]?.hash).map((g) => g.name);
    expect(changed).toEqual(["decode"]);
    // The part's scenario hash (what the rack reports, what activation waits for) follows the spec version,
    // so a rack holding the old part is sent the new one.
    expect(v2.scenario.hash).not.toBe(v1.scenario.hash);
    const content = await scenarioHash(result.scenario);
    expect(v1.scenario.hash).toBe(await activationHash(content, new Map([["visa-v1", visa()]])));
    expect(await activationHash(content, new Map())).toBe(content);
    await expect(scenarioPart(result.scenario, "edge")).rejects.toThrow(
      "gear decode reads spec visa-v1, which was not given",
    );
  });
});
