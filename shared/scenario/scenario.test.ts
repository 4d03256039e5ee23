import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { type ScenarioPart, scenarioHash, scenarioPart } from "./part.ts";
import { laneSubjectFor, ownLaneInput } from "./returning-lanes.ts";
import { validateScenario } from "./validate.ts";

async function example(name: string) {
  const text = await readFile(new URL(`../../examples/scenarios/${name}`, import.meta.url), "utf8");
  const result = validateScenario(text, { file: name });
  if (!result.ok)
    throw new Error(result.problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`).join("\n"));
  return result.scenario;
}

describe("the example scenarios", () => {
  it("single rack: every wire is hot, and the part is the whole scenario", async () => {
    const scenario = await example("demo-single-rack.yaml");
    expect(scenario.wires.every((w) => w.lane === "hot")).toBe(true);
    const part = await scenarioPart(scenario, "local");
    expect(part.gears.map((g) => g.name)).toEqual(["enrich", "large-log", "log", "route", "samples"]);
    expect(part.hot).toHaveLength(4);
    expect(part.publish).toEqual([]);
    expect(part.consume).toEqual([]);
  });

  it("card authorization: cross-rack wires are guaranteed, each side publishes and consumes its ends", async () => {
    const scenario = await example("card-authorization.yaml");
    const edge = await scenarioPart(scenario, "edge");
    const core = await scenarioPart(scenario, "core");
    expect(edge.publish).toEqual([
      { from: { gear: "screen", port: "authorize" }, subject: "flux.msg.core.authorizer.in" },
    ]);
    // The answer comes back to the edge: to the rack the request passed (its own subject), not any of them.
    expect(edge.consume).toEqual([
      {
        subject: "flux.msg.edge.answer.in",
        durable: "fluxmsg-edge-answer-in",
        to: { gear: "answer", port: "in" },
        returning: true,
      },
    ]);
    expect(ownLaneInput(edge.consume[0] as ScenarioPart["consume"][number], "rack-edge.02")).toMatchObject({
      subject: "flux.msg.edge.answer.in.rack-edge_02",
      durable: "fluxmsg-edge-answer-in-rack-edge_02",
    });
    expect(core.gears.map((g) => g.name)).toEqual(["authorizer"]);
    const answering = core.publish[0] as ScenarioPart["publish"][number];
    expect(answering).toEqual({
      from: { gear: "authorizer", port: "response" },
      subject: "flux.msg.edge.answer.in",
      returnTo: ["answer", "decline", "normalize", "screen", "switch-in"],
    });
    const hop = (rack: string, gear: string) => ({ rack, gear, port: "out", ts: 1 });
    const passed = {
      path: [
        hop("rack-edge-02", "switch-in"),
        hop("rack-edge-02", "screen"),
        hop("rack-core-01", "authorizer"),
      ],
    };
    expect(laneSubjectFor(answering, passed)).toBe("flux.msg.edge.answer.in.rack-edge-02");
    expect(laneSubjectFor(answering, { path: [hop("rack-core-01", "authorizer")] })).toBe(
      "flux.msg.edge.answer.in",
    );
    expect(core.consume).toEqual([expect.not.objectContaining({ returning: true })]);
    expect(core.consume.map((c) => c.subject)).toEqual(["flux.msg.core.authorizer.in"]);
    expect(edge.hot.every((w) => w.from.rack === "edge" && w.to.rack === "edge")).toBe(true);
    expect(edge.scenario.hash).toBe(core.scenario.hash);
  });
});

const LOOP = `
meta: {name: loop, version: 1}
racks: {a: {name: rack-a}}
gears:
  retry: {type: router, config: {routes: [{to: again, when: [{field: meta.attempt, exists: true}]}]}}
  bump: {type: transform, config: {ops: [{set: meta.attempt, value: "1"}]}}
wires:
  - {from: retry.again, to: bump.in}
  - {from: bump.out, to: retry.in}
`;

describe("validateScenario", () => {
  it("takes gears as a map, and a declared cycle", () => {
    expect(validateScenario(LOOP).ok).toBe(false);
    const result = validateScenario(`allow_cycles: true\n${LOOP}`);
    expect(result.ok && result.scenario.gears.map((g) => `${g.name}@${g.rack}`)).toEqual([
      "retry@a",
      "bump@a",
    ]);
  });

  it("does not count a wire into a reply port as a cycle", async () => {
    expect((await example("card-authorization.yaml")).allow_cycles).toBe(false);
  });

  it("hashes content, not formatting, and a changed gear changes only its own hash", async () => {
    const reformatted = validateScenario(
      `allow_cycles: true\n${LOOP.replaceAll("{to: again", "{ to: again")}`,
    );
    const base = validateScenario(`allow_cycles: true\n${LOOP}`);
    const changed = validateScenario(`allow_cycles: true\n${LOOP.replace('value: "1"', 'value: "2"')}`);
    if (!base.ok || !reformatted.ok || !changed.ok) throw new Error("unexpected validation result");
    expect(await scenarioHash(reformatted.scenario)).toBe(await scenarioHash(base.scenario));
    expect(await scenarioHash(changed.scenario)).not.toBe(await scenarioHash(base.scenario));
    const before = await scenarioPart(base.scenario, "a");
    const after = await scenarioPart(changed.scenario, "a");
    const hashes = (part: typeof before) => Object.fromEntries(part.gears.map((g) => [g.name, g.hash]));
    expect(hashes(after).retry).toBe(hashes(before).retry);
    expect(hashes(after).bump).not.toBe(hashes(before).bump);
  });
});
