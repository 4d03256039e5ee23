/**
 * One guaranteed wire across racks: two JetStreamLanes (an edge that publishes, a core that consumes, each on
 * its own connection, as two racks would be) on one real nats-server with memory streams. Reports the flood
 * rate (everything offered at once, N messages from publish to the receiving gear), the latency at a paced
 * 10,000 msg/s, and the baseline in the same run: raw JetStream publish + ack of the same bytes with a window
 * of acks in flight, no consumer.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { JetStreamLanes } from "../rack-agent/src/flow/guaranteed-lanes.ts";
import { laneMsgId } from "../rack-agent/src/flow/lane-msg-id.ts";
import { sampleMessage } from "../rack-agent/src/gears/gear-harness.ts";
import { AckWindow } from "../rack-agent/src/snake/ack-window.ts";
import { encodeFluxMsg } from "../shared/fluxmsg/codec.ts";
import type { FluxMsg } from "../shared/fluxmsg/message.ts";
import { fluxMsgSubject } from "../shared/fluxmsg/subjects.ts";
import { laneDurable } from "../shared/scenario/part.ts";
import { ensureStreams } from "../shared/snake/streams.ts";
import { startNatsServer } from "../test/helpers/nats-server.ts";

/** Prints a line: rate over `count` messages, and quantiles of `latencies` (ms) when given. */
type Report = (name: string, elapsedMs: number, latencies: Float64Array | undefined, count: number) => number;

const SUBJECT = fluxMsgSubject("core", "authorizer", "in");
const INPUT = {
  subject: SUBJECT,
  durable: laneDurable("core", "authorizer", "in"),
  to: { gear: "authorizer", port: "in" },
};

/** Runs the three measurements; returns the lane's flood rate and the raw publish rate. */
export async function guaranteedLaneBench(n: number, report: Report): Promise<{ lane: number; raw: number }> {
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
    const edge = new JetStreamLanes({ ...settings, nc: edgeNc, rackName: "rack-edge" });
    const core = new JetStreamLanes({ ...settings, nc: coreNc, rackName: "rack-core" });
    const base = sampleMessage({
      type: "card.auth",
      data: { amount: 1234, pan: "4111111111111111", currency: "EUR", channel: "pos", t0: 0 },
    });
    const bytes = encodeFluxMsg(base).length;
    console.log(`\nguaranteed lane, ${bytes} B fluxMsg as CBOR, nats-server ${rawNc.info?.version}`);

    const latencies = new Float64Array(n);
    let received = 0;
    let allIn: () => void = () => {};
    await core.consume([INPUT], async (_gear, _port, msg) => {
      latencies[received++] = performance.now() - (msg.data as { t0: number }).t0;
      if (received === n) allIn();
    });
    const run = async (perSecond: number | undefined) => {
      received = 0;
      const done = new Promise<void>((resolve) => {
        allIn = resolve;
      });
      const started = performance.now();
      const publishes: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const msg: FluxMsg = {
          ...base,
          id: sampleMessage().id,
          data: { ...(base.data as object), t0: performance.now() },
        };
        publishes.push(edge.publish(SUBJECT, msg));
        if (perSecond) {
          const due = started + ((i + 1) / perSecond) * 1000;
          if (due > performance.now() + 1) await new Promise((r) => setTimeout(r, due - performance.now()));
        } else if ((i & 255) === 255) await new Promise((r) => setImmediate(r));
      }
      await Promise.all(publishes);
      await done;
      return performance.now() - started;
    };
    await run(undefined); // warm-up
    const lane = report("lane: flood, publish → gear → ack", await run(undefined), latencies, n);
    report("lane: paced at 10,000 msg/s", await run(10_000), latencies, n);
    await core.close();
    await edge.close();

    // Baseline: the same bytes, js.publish with a msg id and the same window of acks in flight.
    const js = jetstream(rawNc, { domain: "flux" });
    const window = new AckWindow(256, 64 * 2 ** 20);
    const data = encodeFluxMsg(base);
    const started = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      await window.acquire(data.length);
      const msgID = laneMsgId({ id: sampleMessage().id, path: base.path });
      pending.push(
        js.publish("flux.msg.raw.bench.in", data, { msgID }).finally(() => window.release(data.length)),
      );
    }
    await Promise.all(pending);
    const raw = report("baseline: raw JetStream publish + ack", performance.now() - started, undefined, n);
    return { lane, raw };
  } finally {
    for (const nc of connections) await nc.close();
    await server.stop();
  }
}
