/**
 * `npm run bench:flow`: messages/s and latency through a hot in-rack chain of 3 gears (transform → router →
 * transform, into a probe gear), against baselines in the same run: the same number of plain function
 * calls, and of Promise hops (what a queue per wire would cost at least). At sampling 1 every hop records a
 * span (into memory); at sampling 0 the message's unsampled traceparent passes through unchanged.
 *
 * Figures per round: msg/s by the wall clock, this process's CPU µs per message (less disturbed by other
 * tenants of a shared machine), p50 and p99 latency; then medians of the per-round ratios.
 *
 * Then one guaranteed wire across two racks against raw JetStream publishing (bench/guaranteed-lane.ts), in
 * `--lane-rounds` rounds (`--lane-only` skips the hot chain; `--frames-in-flight N` and `--frame-messages N`
 * change the lanes' defaults, 32 and 256, to compare; `--lane-paced N` paces at N msg/s instead of 10,000).
 *
 *   npm run bench:flow -- --messages 100000 --rounds 3 --lane-messages 50000 --lane-rounds 3
 *   npm run bench:flow:bundled      (the same, precompiled by esbuild as the rack ships: no tsx at run time)
 */
import { parseArgs } from "node:util";
import * as z from "zod";
import { FlowRuntime } from "../rack-agent/src/flow/flow-runtime.ts";
import { defineGear } from "../rack-agent/src/gears/gear.ts";
import { recordingLog, recordingTelemetry, sampleMessage } from "../rack-agent/src/gears/gear-harness.ts";
import { GearRegistry } from "../rack-agent/src/gears/registry.ts";
import type { FluxMsg } from "../shared/fluxmsg/message.ts";
import { defineGearType } from "../shared/gears/gear-type.ts";
import { scenarioPart, validateScenario } from "../shared/scenario/index.ts";
import { guaranteedLaneBench } from "./guaranteed-lane.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    rounds: { type: "string", default: "3" },
    "lane-messages": { type: "string", default: "50000" },
    "lane-rounds": { type: "string", default: "3" },
    "lane-only": { type: "boolean", default: false },
    "frames-in-flight": { type: "string" },
    "frame-messages": { type: "string" },
    "lane-paced": { type: "string", default: "10000" },
  },
});
const N = Number(values.messages);
const ROUNDS = Number(values.rounds);

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

/** One run's figures: throughput by the wall clock, CPU time of this process per message, latency. */
interface Figures {
  rate: number;
  cpuUs: number;
  p50Us: number;
  p99Us: number;
}

/** Times `run` by the wall clock and by this process's CPU time (less disturbed by the other tenants). */
async function measure(name: string, run: () => Promise<void> | void): Promise<Figures> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const elapsed = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  const sorted = latencies.slice(0, N).sort();
  const figures = {
    rate: N / (elapsed / 1000),
    cpuUs: (user + system) / N,
    p50Us: quantile(sorted, 0.5) * 1000,
    p99Us: quantile(sorted, 0.99) * 1000,
  };
  const cells = [
    Math.round(figures.rate).toLocaleString("en").padStart(10),
    figures.cpuUs.toFixed(2).padStart(8),
    figures.p50Us.toFixed(1).padStart(8),
    figures.p99Us.toFixed(1).padStart(9),
  ];
  console.log(`${name.padEnd(36)}${cells.join("")}`);
  return figures;
}

/** Builds the chain at this sampling rate; `run` feeds it N messages. */
async function flowAt(
  samplingRate: number,
): Promise<{ run: () => Promise<void>; stop: () => Promise<void> }> {
  const result = validateScenario(SCENARIO, {
    catalogue: GearRegistry.builtIn().register(probeGear).catalogue(),
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const telemetry = recordingTelemetry(samplingRate);
  const flow = new FlowRuntime(
    {
      rackName: "rack-bench",
      telemetry,
      log: recordingLog(telemetry),
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
  const run = async () => {
    seen = 0;
    telemetry.spans.length = 0; // kept in memory one run at a time, as a telemetry client's batches would be

    for (let i = 0; i < N; i++) {
      const msg: FluxMsg = { ...base, data: { ...(base.data as object), t0: performance.now() } };
      const wait = flow.deliver("enrich", "in", msg);
      if (wait) await wait;
      // Yield now and then, as a source with I/O would, so timers and the event loop run.
      if ((i & 1023) === 1023) await new Promise((resolve) => setImmediate(resolve));
    }
    if (seen !== N) throw new Error(`the probe saw ${seen} of ${N} messages`);
  };
  return { run, stop: () => flow.stop() };
}

type Hop = (m: { data: Record<string, unknown> }) => { data: Record<string, unknown> };
const hop: Hop = (m) => ({ ...m, data: { ...m.data, hop: true } });

function plainCalls(): void {
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    hop(hop(hop({ data: { amt: i } })));
    latencies[i] = performance.now() - t0;
  }
}

async function promiseHops(): Promise<void> {
  const asyncHop = async (m: { data: Record<string, unknown> }) => hop(m);
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await asyncHop(await asyncHop(await asyncHop({ data: { amt: i } })));
    latencies[i] = performance.now() - t0;
  }
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

// import.meta.url names the .ts file under tsx and the bundle when precompiled (npm run bench:flow:bundled).
const build = import.meta.url.endsWith(".ts") ? "TypeScript through tsx" : "precompiled bundle";
/** The hot chain against its baselines, in rounds. */
async function hotChain(): Promise<void> {
  console.log(`${N.toLocaleString("en")} messages × ${ROUNDS} rounds, Node ${process.version}, ${build}`);
  console.log(
    `${"".padEnd(36)}${"msg/s".padStart(10)}${"cpu µs".padStart(8)}${"p50 µs".padStart(8)}${"p99 µs".padStart(9)}`,
  );
  const flows = [await flowAt(0), await flowAt(1)] as const;
  await flows[0].run(); // warm-up of the JIT, not reported
  const runs = {
    plain: [] as Figures[],
    promises: [] as Figures[],
    flow0: [] as Figures[],
    flow1: [] as Figures[],
  };
  for (let round = 0; round < ROUNDS; round++) {
    runs.plain.push(await measure("baseline: 3 plain function calls", plainCalls));
    runs.promises.push(await measure("baseline: 3 awaited Promise hops", promiseHops));
    runs.flow0.push(await measure("flow, 3 gears + probe, sampling 0", flows[0].run));
    runs.flow1.push(await measure("flow, 3 gears + probe, sampling 1", flows[1].run));
  }
  for (const flow of flows) await flow.stop();

  // Medians over the rounds of each round's own ratio, so that a busy moment weighs on both sides alike.
  const ratio = (of: Figures[], to: Figures[], key: keyof Figures) =>
    median(of.map((figures, i) => figures[key] / (to[i] as Figures)[key])).toFixed(3);
  const p = (runs: Figures[], key: keyof Figures) => median(runs.map((figures) => figures[key])).toFixed(1);
  console.log(`\nmedians of ${ROUNDS} rounds:`);
  for (const rate of [0, 1] as const) {
    const flow = rate === 0 ? runs.flow0 : runs.flow1;
    console.log(
      `flow, sampling ${rate}: p50 ${p(flow, "p50Us")} µs, p99 ${p(flow, "p99Us")} µs; msg/s ${ratio(flow, runs.plain, "rate")}× plain calls, ` +
        `${ratio(flow, runs.promises, "rate")}× Promise hops; cpu per message ${ratio(flow, runs.plain, "cpuUs")}× plain calls`,
    );
  }
  console.log(
    `sampling 1 vs 0: msg/s ${ratio(runs.flow1, runs.flow0, "rate")}×, cpu per message ${ratio(runs.flow1, runs.flow0, "cpuUs")}×`,
  );
}

console.log(`Node ${process.version}, ${build}`);
if (!values["lane-only"]) await hotChain();
console.log("");
await guaranteedLaneBench(
  Number(values["lane-messages"]),
  Number(values["lane-rounds"]),
  {
    ...(values["frames-in-flight"] ? { framesInFlight: Number(values["frames-in-flight"]) } : {}),
    ...(values["frame-messages"] ? { frameMessages: Number(values["frame-messages"]) } : {}),
  },
  Number(values["lane-paced"]),
);
