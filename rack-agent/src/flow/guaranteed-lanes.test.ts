import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { expect, it, onTestFinished } from "vitest";
import { decodeFluxMsg } from "../../../shared/fluxmsg/codec.ts";
import {
  DEAD_LETTER_GEAR_HEADER,
  DEAD_LETTER_REASON_HEADER,
} from "../../../shared/fluxmsg/dead-letter-headers.ts";
import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import { fluxMsgSubject } from "../../../shared/fluxmsg/subjects.ts";
import { laneDurable } from "../../../shared/scenario/part.ts";
import { ensureStreams } from "../../../shared/snake/streams.ts";
import { startNatsServer } from "../../../test/helpers/nats-server.ts";
import { sampleMessage } from "../gears/gear-harness.ts";
import { type GuaranteedLanesOptions, JetStreamLanes } from "./guaranteed-lanes.ts";
import type { LaneHandler, LaneInput } from "./lane-consumer.ts";
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

async function bus(durable = false) {
  const server = await startNatsServer();
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

it("publishes, consumes and acks every message once; a republish of the same hop is dropped as a duplicate", async () => {
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
  expect(edge.stats).toMatchObject({ published: 501, duplicates: 1 });
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
  const publisher = lanes(nc);
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
