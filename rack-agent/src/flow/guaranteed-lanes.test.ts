import { setTimeout as sleep } from "node:timers/promises";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { expect, it, onTestFinished } from "vitest";
import { decodeFluxMsg, encodeFluxMsg } from "../../../shared/fluxmsg/codec.ts";
import {
  DEAD_LETTER_GEAR_HEADER,
  DEAD_LETTER_REASON_HEADER,
} from "../../../shared/fluxmsg/dead-letter-headers.ts";
import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import { fluxMsgSubject } from "../../../shared/fluxmsg/subjects.ts";
import { laneDurable } from "../../../shared/scenario/part.ts";
import { ensureStreams } from "../../../shared/snake/streams.ts";
import { startNatsServer } from "../../../test/helpers/nats-server.ts";
import { recordingTelemetry, sampleMessage } from "../gears/gear-harness.ts";
import { type GuaranteedLanesOptions, JetStreamLanes } from "./guaranteed-lanes.ts";
import type { LaneHandler, LaneInput } from "./lane-consumer.ts";
import { encodeLaneFrame, frameMsgId } from "./lane-frame.ts";
import { laneMsgId } from "./lane-msg-id.ts";

const SUBJECT = fluxMsgSubject("core", "sink", "in");
const INPUT: LaneInput = {
  subject: SUBJECT,
  durable: laneDurable("core", "sink", "in"),
  to: { gear: "sink", port: "in" },
};
const STREAMS = {
  stream_name: "flux-msg",
  stream_subjects: ["flux.msg.>"],
  business_stream_max_age: 3_600_000,
  telemetry_stream_max_age: 3_600_000,
};

async function bus(durable = false, maxPayload?: number) {
  const server = await startNatsServer(maxPayload === undefined ? {} : { maxPayload });
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  onTestFinished(async () => {
    await nc.close();
    await server.stop();
  });
  await ensureStreams(await jetstreamManager(nc, { domain: "flux" }), { ...STREAMS, durable });
  return { server, nc };
}

function lanes(nc: NatsConnection, options: Partial<GuaranteedLanesOptions> = {}) {
  const warnings: string[] = [];
  const instance = new JetStreamLanes({
    nc,
    domain: "flux",
    stream: "flux-msg",
    rackName: "rack-core-01",
    convergenceDelayMs: 10,
    retryMs: 100,
    warn: (line) => warnings.push(line),
    ...options,
  });
  onTestFinished(() => instance.close());
  return Object.assign(instance, { warnings });
}

const messages = (n: number) => Array.from({ length: n }, (_, i) => sampleMessage({ data: { seq: i } }));

it("message ids: the same hop is one id, another hop of the same flux_id another", () => {
  const msg = sampleMessage();
  const again = { ...msg, path: msg.path.map((hop) => ({ ...hop, rack: "rack-other", ts: hop.ts + 5 })) };
  expect(laneMsgId(again)).toBe(laneMsgId(msg));
  const later = { ...msg, path: [...msg.path, { rack: "r", gear: "loop", port: "out", ts: 1 }] };
  expect(laneMsgId(later)).not.toBe(laneMsgId(msg));
  expect(laneMsgId(msg)).toMatch(new RegExp(`^${msg.id}:[0-9a-f]{8}$`));
});

it("publishes in frames, consumes and acks every message once; a republish of the same hop is dropped as a duplicate", async () => {
  const { nc } = await bus();
  const edge = lanes(nc);
  const core = lanes(nc);
  const seen: FluxMsg[] = [];
  await core.consume([INPUT], async (gear, port, msg) => {
    expect([gear, port]).toEqual(["sink", "in"]);
    seen.push(msg);
  });
  const sent = messages(500);
  await Promise.all(sent.map((msg) => edge.publish(SUBJECT, msg)));
  await edge.publish(SUBJECT, sent[0] as FluxMsg);
  await expect.poll(() => seen.length).toBe(500);
  expect(new Set(seen.map((m) => m.id))).toEqual(new Set(sent.map((m) => m.id)));
  expect(seen[0]).toEqual(sent.find((m) => m.id === seen[0]?.id));
  // Offered at once, the 500 went in a few frames; the republish was recognised by the publisher.
  expect(edge.stats).toMatchObject({ published: 500, duplicates: 1 });
  expect(edge.stats.frames).toBeLessThan(20);
  await expect.poll(() => core.stats.acked).toBe(500);
  const jsm = await jetstreamManager(nc, { domain: "flux" });
  await expect
    .poll(async () => {
      const info = await jsm.consumers.info("flux-msg", INPUT.durable);
      return [info.num_pending, info.num_ack_pending, info.config.ack_wait, info.config.inactive_threshold];
    })
    .toEqual([0, 0, 10_000_000_000, 3_600_000_000_000]);
});

it("redelivers what a gear failed on, then dead-letters it with the reason after the last delivery", async () => {
  const { nc } = await bus();
  const deadLetters: { msg: FluxMsg; reason: string | undefined; gear: string | undefined }[] = [];
  nc.subscribe("flux.dlq.msg.>", {
    callback: (_, m) => {
      deadLetters.push({
        msg: decodeFluxMsg(m.data),
        reason: m.headers?.get(DEAD_LETTER_REASON_HEADER),
        gear: m.headers?.get(DEAD_LETTER_GEAR_HEADER),
      });
    },
  });
  const core = lanes(nc, { maxDeliveries: 3, nakDelayMs: 20 });
  const [poison, good] = messages(2) as [FluxMsg, FluxMsg];
  const attempts = new Map<string, number>();
  const handled: string[] = [];
  await core.consume([INPUT], async (_gear, _port, msg) => {
    attempts.set(msg.id, (attempts.get(msg.id) ?? 0) + 1);
    if (msg.id === poison.id) throw new Error("issuer said 500");
    handled.push(msg.id);
  });
  await core.publish(SUBJECT, poison);
  await core.publish(SUBJECT, good);
  await expect.poll(() => deadLetters.length).toBe(1);
  expect(deadLetters[0]).toEqual({
    msg: poison,
    gear: "sink",
    reason: "gear sink failed on port in (delivery 3 of 3): issuer said 500",
  });
  expect(attempts.get(poison.id)).toBe(3);
  expect(handled).toEqual([good.id]);
  expect(core.stats).toMatchObject({ redelivered: 2, naked: 2, deadLettered: 1, acked: 1 });
  // Terminated, not looping: nothing more arrives.
  await sleep(300);
  expect(attempts.get(poison.id)).toBe(3);
});

it("a consumer stopped mid-flow finishes what it holds; the next one on the durable takes the rest, none lost", async () => {
  const { nc } = await bus();
  // Small frames, so that the few frames in hand are few messages too.
  const publisher = lanes(nc, { frameMessages: 5 });
  const sent = messages(300);
  await Promise.all(sent.map((msg) => publisher.publish(SUBJECT, msg)));
  const done = new Set<string>();
  const slow: LaneHandler = async (_g, _p, msg) => {
    await sleep(20);
    done.add(msg.id);
  };
  // Few in flight at a time, so the stop comes mid-flow.
  const first = lanes(nc, { maxAckPending: 10 });
  await first.consume([INPUT], slow);
  await expect.poll(() => done.size).toBeGreaterThan(20);
  await first.consume([], slow);
  const byFirst = done.size;
  expect(first.stats.acked).toBe(byFirst);
  expect(byFirst).toBeLessThan(300);
  const second = lanes(nc, { maxAckPending: 10 });
  await second.consume([INPUT], slow);
  await expect.poll(() => done.size, { timeout: 20_000 }).toBe(300);
  // Nothing was stranded in the stopped pull (it would come back only after ack_wait, redelivered).
  expect(first.stats.acked + second.stats.acked).toBe(300);
  expect(second.stats.redelivered).toBe(0);
});

it("with durable streams, the bus stopped and restarted mid-flow loses nothing: publishes wait, consumers resume", async () => {
  const { server, nc } = await bus(true);
  const edge = lanes(nc);
  const core = lanes(nc);
  const done = new Set<string>();
  await core.consume([INPUT], async (_g, _p, msg) => {
    done.add(msg.id);
  });
  const sent = messages(400);
  const publishing = (async () => {
    for (const [i, msg] of sent.entries()) {
      await edge.publish(SUBJECT, msg);
      if (i % 50 === 0) await sleep(20);
    }
  })();
  await expect.poll(() => done.size).toBeGreaterThan(50);
  await server.stop({ keepStore: true });
  await sleep(500);
  const again = await startNatsServer({ reuse: server });
  onTestFinished(() => again.stop());
  await publishing;
  await expect.poll(() => done.size, { timeout: 30_000 }).toBe(400);
  expect(edge.stats.publishRetries).toBeGreaterThan(0);
  expect(edge.warnings.some((w) => w.includes("trying again every 100 ms"))).toBe(true);
}, 60_000);

/** Collects the business dead letters of every rack: the fluxMsg (or bytes), reason and gear. */
function deadLettersOf(nc: NatsConnection) {
  const deadLetters: { data: Uint8Array; reason: string | undefined; gear: string | undefined }[] = [];
  nc.subscribe("flux.dlq.msg.>", {
    callback: (_, m) => {
      deadLetters.push({
        data: m.data,
        reason: m.headers?.get(DEAD_LETTER_REASON_HEADER),
        gear: m.headers?.get(DEAD_LETTER_GEAR_HEADER),
      });
    },
  });
  return deadLetters;
}

it("a message that failed in a frame runs again alone: the frame comes back, its finished messages are skipped", async () => {
  const { nc } = await bus();
  const edge = lanes(nc);
  const core = lanes(nc, { nakDelayMs: 20 });
  const sent = messages(10);
  const flaky = sent[4] as FluxMsg;
  const attempts = new Map<string, number>();
  await core.consume([INPUT], async (_g, _p, msg) => {
    const n = (attempts.get(msg.id) ?? 0) + 1;
    attempts.set(msg.id, n);
    if (msg.id === flaky.id && n < 3) throw new Error(`try ${n} failed`);
  });
  await Promise.all(sent.map((msg) => edge.publish(SUBJECT, msg)));
  expect(edge.stats).toMatchObject({ published: 10, frames: 1 });
  await expect.poll(() => core.stats.acked).toBe(10);
  expect(attempts.get(flaky.id)).toBe(3);
  for (const msg of sent) if (msg !== flaky) expect(attempts.get(msg.id)).toBe(1);
  // The frame came three times: 30 deliveries, the 9 finished ones skipped twice, the flaky one run again.
  expect(core.stats).toMatchObject({ delivered: 30, skipped: 18, redelivered: 2, naked: 2, deadLettered: 0 });
  const jsm = await jetstreamManager(nc, { domain: "flux" });
  await expect
    .poll(async () => {
      const info = await jsm.consumers.info("flux-msg", INPUT.durable);
      return [info.num_pending, info.num_ack_pending, info.delivered.stream_seq];
    })
    .toEqual([0, 0, 1]);
});

it("a poison message in a frame is dead-lettered alone, as the fluxMsg it was, with its reason; the others run once", async () => {
  const { nc } = await bus();
  const deadLetters = deadLettersOf(nc);
  const edge = lanes(nc);
  const core = lanes(nc, { maxDeliveries: 3, nakDelayMs: 20 });
  const sent = messages(20);
  const poison = sent[7] as FluxMsg;
  const handled: string[] = [];
  const attempts = new Map<string, number>();
  await core.consume([INPUT], async (_g, _p, msg) => {
    attempts.set(msg.id, (attempts.get(msg.id) ?? 0) + 1);
    if (msg.id === poison.id) throw new Error("issuer said 500");
    handled.push(msg.id);
  });
  await Promise.all(sent.map((msg) => edge.publish(SUBJECT, msg)));
  expect(edge.stats.frames).toBe(1);
  await expect.poll(() => deadLetters.length).toBe(1);
  expect(decodeFluxMsg((deadLetters[0] as { data: Uint8Array }).data)).toEqual(poison);
  expect(deadLetters[0]).toMatchObject({
    gear: "sink",
    reason: "gear sink failed on port in (delivery 3 of 3): issuer said 500",
  });
  expect(attempts.get(poison.id)).toBe(3);
  expect(handled.sort()).toEqual(
    sent
      .filter((m) => m !== poison)
      .map((m) => m.id)
      .sort(),
  );
  expect(core.stats).toMatchObject({ acked: 19, deadLettered: 1, naked: 2, redelivered: 2 });
  await sleep(300);
  expect(attempts.get(poison.id)).toBe(3);
});

it("keeps every frame within the server's max_payload, headers included", async () => {
  const { nc } = await bus(false, 8_192);
  const edge = lanes(nc);
  const core = lanes(nc);
  const seen = new Set<string>();
  await core.consume([INPUT], async (_g, _p, msg) => {
    seen.add(msg.id);
  });
  const sent = Array.from({ length: 200 }, (_, i) =>
    sampleMessage({ data: { seq: i, pad: "p".repeat(1_000) } }),
  );
  // The server refuses a message over max_payload: every publish resolving is the proof.
  await Promise.all(sent.map((msg) => edge.publish(SUBJECT, msg)));
  await expect.poll(() => seen.size).toBe(200);
  expect(edge.stats.frames).toBeGreaterThanOrEqual(Math.ceil((200 * 1_100) / 8_192));
  expect(edge.stats.frames).toBeLessThan(100);
});

it("one emit onto two lanes is stored on both; a copy in another frame is skipped by the consumer that finished it", async () => {
  const { nc } = await bus();
  const other: LaneInput = {
    subject: fluxMsgSubject("core", "audit", "in"),
    durable: laneDurable("core", "audit", "in"),
    to: { gear: "audit", port: "in" },
  };
  const core = lanes(nc);
  const seen: string[] = [];
  await core.consume([INPUT, other], async (gear, _p, msg) => {
    seen.push(`${gear} ${msg.id}`);
  });
  const msg = sampleMessage();
  const edge = lanes(nc);
  await Promise.all([edge.publish(SUBJECT, msg), edge.publish(other.subject, msg)]);
  await expect.poll(() => seen.sort()).toEqual([`audit ${msg.id}`, `sink ${msg.id}`]);
  // Another rack (another publisher: it cannot know) sends the same message again, in a frame with others.
  const again = lanes(nc);
  const more = messages(3);
  await Promise.all([msg, ...more].map((m) => again.publish(SUBJECT, m)));
  expect(again.stats.frames).toBe(1);
  await expect.poll(() => seen.length).toBe(5);
  expect(seen.filter((s) => s === `sink ${msg.id}`)).toHaveLength(1);
  expect(core.lanes.get(SUBJECT)).toMatchObject({ delivered: 5, skipped: 1, acked: 4 });
});

it("reads bare fluxMsgs stored by a rack from before frames, and dead-letters a bad message of a frame alone", async () => {
  const { nc } = await bus();
  const deadLetters = deadLettersOf(nc);
  const core = lanes(nc);
  const seen: string[] = [];
  await core.consume([INPUT], async (_g, _p, msg) => {
    seen.push(msg.id);
  });
  const js = jetstream(nc, { domain: "flux" });
  const legacy = sampleMessage();
  await js.publish(SUBJECT, encodeFluxMsg(legacy), { msgID: laneMsgId(legacy) });
  const good = sampleMessage();
  const bad = { id: "not-a-msg:00000000", data: new Uint8Array([0xa1, 0x61, 0x78, 0x01]) };
  const entries = [{ id: laneMsgId(good), data: encodeFluxMsg(good) }, bad];
  await js.publish(SUBJECT, encodeLaneFrame(entries), { msgID: frameMsgId(SUBJECT, entries) });
  await expect.poll(() => seen.sort()).toEqual([legacy.id, good.id].sort());
  await expect.poll(() => deadLetters.length).toBe(1);
  expect([...(deadLetters[0]?.data ?? [])]).toEqual([...bad.data]);
  expect(deadLetters[0]?.reason).toMatch(/^not a fluxMsg on flux\.msg\.core\.sink\.in: not a fluxMsg: /);
  await expect.poll(() => core.stats).toMatchObject({ delivered: 3, acked: 2, deadLettered: 1 });
});

it("reports each lane's counters as fluxrig.lane.* metrics labelled with the lane, each what it counted since the last report", async () => {
  const { nc } = await bus();
  const edge = lanes(nc);
  const core = lanes(nc);
  await core.consume([INPUT], async () => undefined);
  await Promise.all(messages(30).map((msg) => edge.publish(SUBJECT, msg)));
  await expect.poll(() => core.stats.acked).toBe(30);
  const telemetry = recordingTelemetry();
  edge.reportMetrics(telemetry);
  core.reportMetrics(telemetry);
  const metric = (name: string) =>
    telemetry.metrics.filter((m) => m.name === name).map((m) => [m.value, m.labels]);
  expect(metric("fluxrig.lane.published")).toEqual([[30, { lane: SUBJECT }]]);
  expect(metric("fluxrig.lane.frames")).toEqual([[1, { lane: SUBJECT }]]);
  expect(metric("fluxrig.lane.acked")).toEqual([[30, { lane: SUBJECT }]]);
  expect(metric("fluxrig.lane.dead_lettered")).toEqual([]);
  // Counters are deltas: the next report carries the 12 acked since, not the running total of 42.
  await Promise.all(messages(12).map((msg) => edge.publish(SUBJECT, msg)));
  await expect.poll(() => core.stats.acked).toBe(42);
  core.reportMetrics(telemetry);
  expect(metric("fluxrig.lane.acked")).toEqual([
    [30, { lane: SUBJECT }],
    [12, { lane: SUBJECT }],
  ]);
});
