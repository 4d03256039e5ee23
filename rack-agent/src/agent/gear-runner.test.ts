import { describe, expect, it } from "vitest";
import { generateKeyPair, SEALING_ALGORITHM } from "../../../shared/passport/index.ts";
import { scenarioPart, validateScenario } from "../../../shared/scenario/index.ts";
import { recordingLog, recordingTelemetry } from "../gears/gear-harness.ts";
import { GearRunner } from "./gear-runner.ts";
import { RackSecrets } from "./rack-secrets.ts";

const SCENARIO = `
meta: {name: demo, version: 1}
racks: {local: {name: rack-local}}
gears:
  samples: {type: generator, config: {rate: 200, type: payment}}
  log: {type: log-sink}
wires: [{from: samples.out, to: log.in}]
`;

describe("GearRunner", () => {
  it("runs a part only while the rack is active and online, and reports it for heartbeats", async () => {
    const lines: string[] = [];
    const runner = new GearRunner((line) => lines.push(line));
    const result = validateScenario(SCENARIO);
    if (!result.ok) throw new Error("invalid test scenario");
    const part = await scenarioPart(result.scenario, "local");
    const secrets = await RackSecrets.open({}, await generateKeyPair(SEALING_ALGORITHM), {}, () => undefined);
    const telemetry = recordingTelemetry();

    await runner.runPart(part);
    runner.follow("active", secrets);
    await runner.settled();
    // Held but not running yet (not online): reported as starting, so activation waits for it.
    expect(runner.scenario).toEqual({ name: "demo", hash: part.scenario.hash, state: "starting" });

    runner.attach({
      rackName: "rack-local",
      telemetry,
      log: recordingLog(telemetry, lines),
      limits: { maxHops: 64, maxPayloadSize: 1 << 20 },
      deadLetter: () => undefined,
    });
    await runner.settled();
    expect(runner.scenario).toEqual({
      name: "demo",
      hash: part.scenario.hash,
      state: "running",
      gears: { log: "running", samples: "running" },
    });
    await expect
      .poll(() => telemetry.logs.filter((l) => l.attributes.gear_id === "log").length)
      .toBeGreaterThan(2);

    runner.follow("suspended", secrets);
    await runner.settled();
    expect(runner.scenario).toEqual({ name: "demo", hash: part.scenario.hash, state: "starting" });
    expect(lines).toContain("gears stopped: the rack is suspended");
    expect(
      telemetry.metrics.some((m) => m.name === "fluxrig.gear.messages_in" && m.labels.gear_id === "log"),
    ).toBe(true);
  });
});
