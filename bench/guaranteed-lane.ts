/**
 * One guaranteed wire across racks: two JetStreamLanes (an edge that publishes, a core that consumes, each on
 * its own connection, as two racks would be; both in this one process) on one real nats-server with memory
 * streams. Per round, in this order so that a busy moment of the shared machine weighs on all alike:
 *
 * - baseline: raw JetStream publish + ack, one message per publish with a `Nats-Msg-Id` (what a lane cost
 *   before frames), the same bytes, a window of 256 acks in flight, no consumer;
 * - the lane flooded: everything offered at once, N messages from publish to the receiving gear's ack;
 * - the lane paced (10,000 msg/s unless told): the rate it kept, the latency (emit → receiving gear) p50/p99,
 *   and the emit → stored part of it.
 *
 * Then medians over the rounds, and the lane's flood rate as a ratio of the baseline's, per round.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { type GuaranteedLanesOptions, JetStreamLanes } from "../rack-agent/src/flow/guaranteed-lanes.ts";
import { laneMsgId } from "../rack-agent/src/flow/lane-msg-id.ts";
import { sampleMessage } from "../rack-agent/src/gears/gear-harness.ts";
import { AckWindow } from "../rack-agent/src/snake/ack-window.ts";
import { encodeFluxMsg } from "../shared/fluxmsg/codec.ts";
import type { FluxMsg } from "../shared/fluxmsg/message.ts";
import { fluxMsgSubject } from "../shared/fluxmsg/subjects.ts";
import { uuidv7 } from "../shared/random/uuidv7.ts";
import { laneDurable } from "../shared/scenario/part.ts";
import { ensureStreams } from "../shared/snake/streams.ts";
import { startNatsServer } from "../test/helpers/nats-server.ts";

/** One run: msg/s by the wall clock, this process's CPU µs per message, latency quantiles in ms. */
export interface LaneFigures {
  rate: number;
  cpuUs: number;
  p50Ms?: number;
  p99Ms?: number;
}

const SUBJECT = fluxMsgSubject("core", "authorizer", "in");
const INPUT = {
  subject: SUBJECT,
  durable: laneDurable("core", "authorizer", "in"),
  to: { gear: "authorizer", port: "in" },
};

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

/** Times `run` (which handles `n` messages); latencies in ms when given. */
async function timed(n: number, run: () => Promise<void>, latencies?: Float64Array): Promise<LaneFigures> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const elapsed = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  const figures: LaneFigures = { rate: n / (elapsed / 1000), cpuUs: (user + system) / n };
  if (latencies) {
    const sorted = latencies.slice(0, n).sort();
    figures.p50Ms = quantile(sorted, 0.5);
    figures.p99Ms = quantile(sorted, 0.99);
  }
  return figures;
}

function line(name: string, f: LaneFigures, extra = ""): void {
  const tail =
    f.p50Ms === undefined ? "" : `  p50 ${f.p50Ms.toFixed(2)} ms  p99 ${(f.p99Ms as number).toFixed(2)} ms`;
  console.log(
    `${name.padEnd(40)} ${Math.round(f.rate).toLocaleString("en").padStart(9)} msg/s ${f.cpuUs.toFixed(1).padStart(7)} cpu µs/msg${tail}${extra}`,
  );
}

/** Runs `rounds` rounds of the three measurements over `n` messages each; returns every round's figures. */
export async function guaranteedLaneBench(
  n: number,
  rounds: number,
  tuning: Pick<GuaranteedLanesOptions, "framesInFlight" | "frameMessages"> = {},
  PACED_RATE = 10_000,
): Promise<{ raw: LaneFigures[]; flood: LaneFigures[]; paced: LaneFigures[] }> {
  const server = await startNatsServer();
  const connections = await Promise.all([0, 1, 2].map(() => connect({ servers: server.url })));
  const [edgeNc, coreNc, rawNc] = connections as [
    (typeof connections)[0],
    (typeof connections)[0],
    (typeof connections)[0],
  ];
  try {
    await ensureStreams(await jetstreamManager(rawNc, { domain: "flux" }), {
      stream_name: "flux-msg",
      stream_subjects: ["flux.msg.>"],
      business_stream_max_age: 3_600_000,
      telemetry_stream_max_age: 3_600_000,
      durable: false,
    });
    const settings = {
      domain: "flux",
      stream: "flux-msg",
      convergenceDelayMs: 100,
      retryMs: 1_000,
      warn: console.warn,
    };
    const edge = new JetStreamLanes({ ...settings, ...tuning, nc: edgeNc, rackName: "rack-edge" });
    const core = new JetStreamLanes({ ...settings, nc: coreNc, rackName: "rack-core" });
    const base = sampleMessage({
      type: "card.auth",
      data: { amount: 1234, pan: "4111111111111111", currency: "EUR", channel: "pos", t0: 0 },
    });
    const data = encodeFluxMsg(base);
    console.log(
      `\nguaranteed lane, ${data.length} B fluxMsg as CBOR, ${n.toLocaleString("en")} messages × ${rounds} rounds, nats-server ${rawNc.info?.version}`,
    );

    const latencies = new Float64Array(n);
    /** Emit → its frame stored (the publishing half of `latencies`). */
    const stored = new Float64Array(n);
    let received = 0;
    let allIn: () => void = () => {};
    await core.consume([INPUT], async (_gear, _port, msg) => {
      latencies[received++] = performance.now() - (msg.data as { t0: number }).t0;
      if (received === n) allIn();
    });
    /** Offers n messages (all at once, or paced), resolves once the gear had them all. */
    const lane = (perSecond: number | undefined) => async () => {
      received = 0;
      const done = new Promise<void>((resolve) => {
        allIn = resolve;
      });
      const started = performance.now();
      const publishes: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const msg: FluxMsg = {
          ...base,
          id: uuidv7(),
          data: { ...(base.data as object), t0: performance.now() },
        };
        const t0 = (msg.data as { t0: number }).t0;
        publishes.push(
          edge.publish(SUBJECT, msg).then(() => {
            stored[i] = performance.now() - t0;
          }),
        );
        if (perSecond) {
          const due = started + ((i + 1) / perSecond) * 1000;
          if (due > performance.now() + 1) await new Promise((r) => setTimeout(r, due - performance.now()));
        } else if ((i & 255) === 255) await new Promise((r) => setImmediate(r));
      }
      await Promise.all(publishes);
      await done;
    };
    // Baseline: the same bytes, one js.publish each with a msg id, the same window of acks in flight.
    const js = jetstream(rawNc, { domain: "flux" });
    const raw = async () => {
      const window = new AckWindow(256, 64 * 2 ** 20);
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) {
        await window.acquire(data.length);
        const msgID = laneMsgId({ id: uuidv7(), path: base.path });
        pending.push(
          js.publish("flux.msg.raw.bench.in", data, { msgID }).finally(() => window.release(data.length)),
        );
      }
      await Promise.all(pending);
    };

    await lane(undefined)(); // warm-up of the JIT, not reported
    await raw();
    const runs = { raw: [] as LaneFigures[], flood: [] as LaneFigures[], paced: [] as LaneFigures[] };
    console.log(`${"".padEnd(40)} ${"rate".padStart(15)} ${"".padStart(14)}`);
    for (let round = 0; round < rounds; round++) {
      const raw1 = await timed(n, raw);
      let frames = edge.stats.frames;
      const flood = await timed(n, lane(undefined), latencies);
      const floodFrames = edge.stats.frames - frames;
      frames = edge.stats.frames;
      const paced = await timed(n, lane(PACED_RATE), latencies);
      const pacedFrames = edge.stats.frames - frames;
      const storedSorted = stored.slice().sort();
      const figures = { raw: raw1, flood, paced };
      line("baseline: raw JetStream publish + ack", figures.raw);
      line(
        "lane: flood, publish → gear → ack",
        figures.flood,
        `  (${(figures.flood.rate / figures.raw.rate).toFixed(2)}× raw; ${(n / floodFrames).toFixed(1)} msg/frame)`,
      );
      line(
        `lane: paced at ${PACED_RATE.toLocaleString("en")} msg/s`,
        figures.paced,
        `  (${(n / pacedFrames).toFixed(1)} msg/frame; emit → stored p50 ${quantile(storedSorted, 0.5).toFixed(2)} ms, p99 ${quantile(storedSorted, 0.99).toFixed(2)} ms)`,
      );
      runs.raw.push(figures.raw);
      runs.flood.push(figures.flood);
      runs.paced.push(figures.paced);
    }
    await core.close();
    await edge.close();
    const m = (of: LaneFigures[], key: keyof LaneFigures) => median(of.map((f) => f[key] as number));
    const ratio = median(runs.flood.map((f, i) => f.rate / (runs.raw[i] as LaneFigures).rate));
    console.log(
      `\nmedians of ${rounds} rounds: raw JetStream publish + ack ${Math.round(m(runs.raw, "rate")).toLocaleString("en")} msg/s; ` +
        `lane flood ${Math.round(m(runs.flood, "rate")).toLocaleString("en")} msg/s = ${ratio.toFixed(2)}× raw; ` +
        `lane paced at ${PACED_RATE.toLocaleString("en")}/s kept ${Math.round(m(runs.paced, "rate")).toLocaleString("en")} msg/s, ` +
        `p50 ${m(runs.paced, "p50Ms").toFixed(2)} ms, p99 ${m(runs.paced, "p99Ms").toFixed(2)} ms ` +
        `(flood p50 ${m(runs.flood, "p50Ms").toFixed(1)} ms, p99 ${m(runs.flood, "p99Ms").toFixed(1)} ms: queueing of ${n.toLocaleString("en")} offered at once)`,
    );
    console.log(
      `lane counters: edge ${JSON.stringify(edge.stats)}\n               core ${JSON.stringify(core.stats)}`,
    );
    return runs;
  } finally {
    for (const nc of connections) await nc.close();
    await server.stop();
  }
}
