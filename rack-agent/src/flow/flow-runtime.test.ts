import { describe, expect, it } from "vitest";
import type { FluxMsgDraft } from "../../../shared/fluxmsg/produce.ts";
import { scenarioPart, validateScenario } from "../../../shared/scenario/index.ts";
import { recordingLog, recordingTelemetry, sampleMessage } from "../gears/gear-harness.ts";
import type { GearServices } from "../gears/gear-host.ts";
import { GearRegistry } from "../gears/registry.ts";
import { FlowRuntime } from "./flow-runtime.ts";

async function partOf(yaml: string, rack = "a") {
  const result = validateScenario(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return scenarioPart(result.scenario, rack);
}

function runtime(maxHops = 64) {
  const telemetry = recordingTelemetry();
  const deadLetters: { msg: FluxMsgDraft; gear: string; reason: string }[] = [];
  const lines: string[] = [];
  const services: GearServices = {
    rackName: "rack-a",
    telemetry,
    log: recordingLog(telemetry, lines),
    limits: { maxHops, maxPayloadSize: 1 << 20 },
    secrets: { get: () => undefined },
    deadLetter: (msg, gear, reason) => void deadLetters.push({ msg, gear, reason }),
  };
  return { flow: new FlowRuntime(services, GearRegistry.builtIn()), telemetry, deadLetters, lines };
}

const CHAIN = (threshold: number) => `
meta: {name: chain, version: 1}
racks: {a: {name: rack-a}}
gears:
  - {name: enrich, type: transform, config: {ops: [{set: meta.channel, value: pos}]}}
  - {name: route, type: router, config: {routes: [{to: big, when: [{field: data.amount, gt: ${threshold}}]}]}}
  - {name: big, type: log-sink, config: {level: warn}}
  - {name: small, type: log-sink}
wires:
  - {from: enrich.out, to: route.in}
  - {from: route.big, to: big.in}
  - {from: route.default, to: small.in}
`;

describe("FlowRuntime", () => {
  it("runs a part's hot wires as direct calls, one trace across the hops", async () => {
    const { flow, telemetry } = runtime();
    const applied = await flow.apply(await partOf(CHAIN(100)));
    expect(applied.started.sort()).toEqual(["big", "enrich", "route", "small"]);
    const msg = sampleMessage({ data: { amount: 500 } });
    flow.deliver("enrich", "in", msg);
    const logged = telemetry.logs.filter((l) => l.message.startsWith("sample"));
    expect(logged.map((l) => [l.level, l.attributes.gear_id])).toEqual([["warn", "big"]]);
    const traceIds = new Set(telemetry.spans.map((s) => s.trace_id));
    expect(traceIds.size).toBe(1);
    expect(telemetry.spans.map((s) => s.span_name)).toEqual(["gear big", "gear route", "gear enrich"]);
    expect(flow.scenario?.gears).toEqual({
      big: "running",
      enrich: "running",
      route: "running",
      small: "running",
    });
    await flow.stop();
    expect(flow.hosts.size).toBe(0);
  });

  it("restarts only the gears whose definition or wiring changed", async () => {
    const { flow, telemetry } = runtime();
    await flow.apply(await partOf(CHAIN(100)));
    const enrich = flow.hosts.get("enrich");
    const applied = await flow.apply(await partOf(CHAIN(1000)));
    expect(applied).toMatchObject({ started: ["route"], stopped: ["route"], failed: [] });
    expect(applied.kept.sort()).toEqual(["big", "enrich", "small"]);
    expect(flow.hosts.get("enrich")).toBe(enrich);
    flow.deliver("enrich", "in", sampleMessage({ data: { amount: 500 } }));
    expect(telemetry.logs.at(-1)?.attributes.gear_id).toBe("small");
    await flow.stop();
  });

  it("ends a routing loop at max_hops: the message is dead-lettered with the reason, counted and journaled", async () => {
    const { flow, deadLetters, telemetry } = runtime(10);
    await flow.apply(
      await partOf(`
allow_cycles: true
meta: {name: loop, version: 1}
racks: {a: {name: rack-a}}
gears:
  ping: {type: transform}
  pong: {type: transform}
wires:
  - {from: ping.out, to: pong.in}
  - {from: pong.out, to: ping.in}
`),
    );
    flow.deliver("ping", "in", sampleMessage());
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.reason).toBe("max_hops exceeded: 11 hops, rack.max_hops is 10 (a routing loop?)");
    expect(deadLetters[0]?.msg.path).toHaveLength(11);
    const errors = [...flow.hosts.values()].map((h) => h.metrics.errors);
    expect(errors.reduce((a, b) => a + b)).toBe(1);
    // Journaled as refused when it left the gear that emitted it over the bound: no destination, the reason.
    expect(telemetry.journaled).toEqual([
      expect.objectContaining({
        flux_id: deadLetters[0]?.msg.id,
        status: "error",
        direction: "internal",
        src_gear_id: deadLetters[0]?.gear,
        dst_gear_id: null,
        promoted: { dead_letter: deadLetters[0]?.reason },
      }),
    ]);
    await flow.stop();
  });

  it("keeps the other gears running when one cannot start, and says why", async () => {
    const { flow, lines } = runtime();
    const applied = await flow.apply(
      await partOf(`
meta: {name: bad, version: 1}
racks: {a: {name: rack-a}}
gears:
  out: {type: http-out, config: {url: "http://127.0.0.1:1/", headers: {x-key: "\${MISSING}"}}}
  log: {type: log-sink}
`),
    );
    expect(applied.started).toEqual(["log"]);
    expect(applied.failed[0]?.error.message).toMatch(
      /^gear out \(http-out\): config.headers.x-key refers to the secret \$\{MISSING\}/,
    );
    expect(lines.some((l) => l.startsWith("gear out not started:"))).toBe(true);
    expect(flow.scenario?.gears).toEqual({ log: "running", out: "stopped" });
    await flow.stop();
  });

  it("dead-letters, at the emitting gear, what a guaranteed wire carries when the rack has no bus", async () => {
    const { flow, deadLetters } = runtime();
    await flow.apply(
      await partOf(`
meta: {name: two, version: 1}
racks: {a: {name: rack-a}, b: {name: rack-b}}
gears:
  - {name: t, type: transform, rack: a}
  - {name: s, type: log-sink, rack: b}
wires: [{from: t.out, to: s.in}]
`),
    );
    flow.deliver("t", "in", sampleMessage());
    await expect
      .poll(() => deadLetters.map((d) => d.reason))
      .toEqual([
        "gear t failed on port in: publishing to flux.msg.b.s.in failed: this rack has no guaranteed lanes (no bus connection)",
      ]);
    await flow.stop();
  });
});
