/**
 * `npm run bench:flow`: messages/s and latency through a hot in-rack chain of 3 gears (transform → router →
 * transform, into a probe gear), against baselines in the same run: the same number of plain function
 * calls, and of Promise hops (what a queue per wire would cost at least). Spans get ids on every hop
 * (trace context propagates) but are recorded only when sampled: runs at sampling 0 and 1 (into memory).
 * Then one guaranteed wire across two racks against raw JetStream publishing (bench/guaranteed-lane.ts).
 *
 *   npm run bench:flow -- --messages 200000 --lane-messages 50000
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { FlowRuntime } from "../rack-agent/src/flow/flow-runtime.ts";
import { defineGear } from "../rack-agent/src/gears/gear.ts";
import { recordingTelemetry, sampleMessage } from "../rack-agent/src/gears/gear-harness.ts";
import { GearRegistry } from "../rack-agent/src/gears/registry.ts";
import type { FluxMsg } from "../shared/fluxmsg/message.ts";
import { defineGearType } from "../shared/gears/gear-type.ts";
import { scenarioPart, validateScenario } from "../shared/scenario/index.ts";
import { guaranteedLaneBench } from "./guaranteed-lane.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "200000" },
    "lane-messages": { type: "string", default: "50000" },
  },
});
const N = Number(values.messages);

/** A user gear type: records each message's latency since it entered the chain (data.t0). */
const latencies = new Float64Array(N);
let seen = 0;
const probeType = defineGearType({
  type: "probe",
  description: "records latency since data.t0",
  config: z.strictObject({}),
  inputs: ["in"],
  outputs: [],
});
const probeGear = defineGear(probeType, () => ({
  process(msg) {
    latencies[seen++] = performance.now() - (msg.data as { t0: number }).t0;
  },
}));

const SCENARIO = `
meta: {name: bench, version: 1}
racks: {local: {name: rack-bench}}
gears:
  enrich: {type: transform, config: {ops: [{set: meta.channel, value: pos}, {rename: data.amt, to: data.amount}]}}
  route: {type: router, config: {routes: [{to: big, when: [{field: data.amount, gt: 100000}]}]}}
  shape: {type: transform, config: {ops: [{delete: data.track2}, {set: data.checked, value: true}]}}
  probe: {type: probe}
wires:
  - {from: enrich.out, to: route.in}
  - {from: route.default, to: shape.in}
  - {from: route.big, to: shape.in}
  - {from: shape.out, to: probe.in}
`;

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function report(name: string, elapsedMs: number, lat?: Float64Array, count = N) {
  const rate = Math.round(count / (elapsedMs / 1000));
  let tail = "";
  if (lat) {
    const sorted = lat.slice(0, count).sort();
    const ms = (q: number) => quantile(sorted, q);
    tail =
      ms(0.99) < 1
        ? `  p50 ${(ms(0.5) * 1000).toFixed(1)} µs  p99 ${(ms(0.99) * 1000).toFixed(1)} µs`
        : `  p50 ${ms(0.5).toFixed(2)} ms  p99 ${ms(0.99).toFixed(2)} ms`;
  }
  console.log(`${name.padEnd(44)} ${rate.toLocaleString("en").padStart(11)} msg/s${tail}`);
  return rate;
}

async function flowRun(samplingRate: number): Promise<number> {
  const result = validateScenario(SCENARIO, {
    catalogue: GearRegistry.builtIn().register(probeGear).catalogue(),
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const telemetry = recordingTelemetry(samplingRate);
  const flow = new FlowRuntime(
    {
      rackName: "rack-bench",
      telemetry,
      log: { info: () => undefined, warn: console.warn },
      limits: { maxHops: 64, maxPayloadSize: 2_097_152 },
      secrets: { get: () => undefined },
      deadLetter: (_msg, gear, reason) => console.warn(`dead letter from ${gear}: ${reason}`),
    },
    GearRegistry.builtIn().register(probeGear),
  );
  await flow.apply(await scenarioPart(result.scenario, "local"));
  const base = sampleMessage({
    type: "card.auth",
    data: { amt: 1234, pan: "4111111111111111", currency: "EUR", track2: "x".repeat(40), t0: 0 },
  });
  // The entering message carries the sampling decision (its traceparent flag), as one from a client would.
  if (samplingRate === 0) base.trace = `${base.trace.slice(0, -2)}00`;
  seen = 0;
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    const msg: FluxMsg = { ...base, data: { ...(base.data as object), t0: performance.now() } };
    const wait = flow.deliver("enrich", "in", msg);
    if (wait) await wait;
    // Yield now and then, as a source with I/O would, so timers and the event loop run.
    if ((i & 1023) === 1023) await new Promise((resolve) => setImmediate(resolve));
  }
  const elapsed = performance.now() - started;
  await flow.stop();
  if (seen !== N) throw new Error(`the probe saw ${seen} of ${N} messages`);
  return report(`flow, 3 gears + probe, sampling ${samplingRate}`, elapsed, latencies);
}

function plainCalls(): number {
  const hop = (m: { data: Record<string, unknown> }): { data: Record<string, unknown> } => ({
    ...m,
    data: { ...m.data, hop: true },
  });
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    const m = hop(hop(hop({ data: { amt: i } })));
    sink += m.data.amt as number;
  }
  const elapsed = performance.now() - started;
  if (sink < 0) console.log(sink);
  return report("baseline: 3 plain function calls", elapsed);
}

async function promiseHops(): Promise<number> {
  const hop = async (m: { data: Record<string, unknown> }) => ({ ...m, data: { ...m.data, hop: true } });
  const started = performance.now();
  for (let i = 0; i < N; i++) await hop(await hop(await hop({ data: { amt: i } })));
  return report("baseline: 3 awaited Promise hops", performance.now() - started);
}

console.log(`${N.toLocaleString("en")} messages, Node ${process.version}`);
const plain = plainCalls();
const promises = await promiseHops();
await flowRun(0); // warm-up of the JIT, not reported separately
const flow0 = await flowRun(0);
const flow1 = await flowRun(1);
console.log(
  `\nflow (sampling 0) = ${(flow0 / plain).toFixed(3)}× plain calls, ${(flow0 / promises).toFixed(2)}× Promise hops; ` +
    `sampling 1 = ${(flow1 / flow0).toFixed(2)}× sampling 0`,
);
const lane = await guaranteedLaneBench(Number(values["lane-messages"]), report);
console.log(`guaranteed lane (flood) = ${(lane.lane / lane.raw).toFixed(2)}× raw JetStream publish + ack`);
