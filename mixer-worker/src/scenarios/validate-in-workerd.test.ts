import { describe, expect, it } from "vitest";
import { formatProblem, scenarioPart, validateScenario } from "../../../shared/scenario/index.ts";

/** The mixer validates scenarios on import: the validator, the yaml parser and the hash must run in workerd. */
describe("scenario validation inside workerd", () => {
  it("validates, hashes and cuts parts with Web APIs only", async () => {
    const result = validateScenario(
      [
        "meta: {name: t, version: 1}",
        "racks: {a: {name: rack-a}, b: {selector: {role: core}}}",
        "gears:",
        "  - {name: g, type: generator, rack: a}",
        "  - {name: s, type: log-sink, rack: b}",
        "wires: [{from: g.out, to: s.in}]",
      ].join("\n"),
    );
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
    const part = await scenarioPart(result.scenario, "b");
    expect(part.consume.map((c) => c.subject)).toEqual(["flux.msg.b.s.in"]);
    expect(part.scenario.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("names the line of a problem", () => {
    const result = validateScenario("meta: {name: t, version: 1}\nracks: {a: {selector: {}}}\ngears: []\n");
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      "scenario.yaml:2:23 racks.a.selector: empty selector: it would match every rack; give at least one label, or name one rack with name:",
    ]);
  });
});
