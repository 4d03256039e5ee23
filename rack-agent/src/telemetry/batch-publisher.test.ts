import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstream } from "@nats-io/jetstream";
import { uuidv7 } from "uuidv7";
import { expect, it, onTestFinished, vi } from "vitest";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { startTelemetryRig, type TelemetryRig } from "../../../test/helpers/rack-telemetry.ts";
import { readTelemetryStream } from "../../../test/helpers/telemetry-stream.ts";
import { BatchPublisher } from "./batch-publisher.ts";
import { RecordBatch, type SealedBatch } from "./record-batch.ts";
import { Spool } from "./spool.ts";
import { emptyStats } from "./stats.ts";

/** A one-record logs batch of about `bytes` bytes. */
function batchOf(bytes: number): SealedBatch {
  const batch = new RecordBatch("logs");
  batch.add(cbor.encode({ record_id: uuidv7(), message: "x".repeat(bytes) }));
  return batch.seal("flux.telemetry.logs.rack-test-01");
}

/** A publisher on the rig's connection with its own spool, and the rig's server frozen/thawed by signal. */
async function frozenRig(options: { maxInFlightBytes: number; ackTimeoutMs: number }) {
  const rig = await startTelemetryRig({ durable: true });
  const freeze = () => {
    process.kill(rig.server.pid, "SIGSTOP");
  };
  const thaw = () => {
    process.kill(rig.server.pid, "SIGCONT");
  };
  // A failing test must not leave the server stopped: its cleanup stops it with SIGINT.
  onTestFinished(thaw);
  const spool = await Spool.open(join(rig.stateDir, "spool", "publisher-test"), 2 ** 30, () => undefined);
  const stats = emptyStats();
  const open = () =>
    new BatchPublisher({
      nc: rig.nc,
      js: jetstream(rig.nc, { domain: rig.config.snake.domain }),
      spool,
      stats,
      drop: () => undefined,
      warn: () => undefined,
      window: 16,
      retryIntervalMs: 50,
      ...options,
    });
  return { rig, spool, stats, freeze, thaw, open };
}

/** Each message id in the stream once, and exactly these. */
async function expectStoredOnce(rig: TelemetryRig, batches: SealedBatch[]) {
  const stored = await readTelemetryStream(rig.jsm);
  const ids = stored.map((m) => m.msgID).filter((id) => id !== undefined);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.sort()).toEqual(expect.arrayContaining(batches.map((b) => b.msgID).sort()));
}

it("a drain stopped by a failure while a retry was due still empties the spool once the bus answers again", async () => {
  // The sequence that stranded batches: a drain waits for window room for a big spooled batch; meanwhile a
  // small publish times out and schedules a retry, which fires while the drain still waits and so does
  // nothing; the drain then sees the failure and stops. With the bus healthy again nothing fails any more,
  // and what the spool held stayed there.
  const { rig, spool, stats, freeze, thaw, open } = await frozenRig({
    maxInFlightBytes: 100_000,
    ackTimeoutMs: 2_000,
  });
  const big = [batchOf(60_000), batchOf(60_000)];
  freeze();
  for (const batch of big) await spool.write(batch);
  const publisher = open();
  const small = [batchOf(500), batchOf(500)];
  void publisher.submit(small[0] as SealedBatch);
  await sleep(1_200);
  void publisher.submit(small[1] as SealedBatch);
  // The first small publish times out at 2 s and the drain starts; the second times out at 3.2 s.
  await sleep(2_400);
  thaw();

  await vi.waitFor(() => expect(spool.batches).toBe(0), { timeout: 15_000, interval: 100 });
  await publisher.flush();
  await expectStoredOnce(rig, [...big, ...small]);
  expect(stats.recordsSent).toBe(4);
  await publisher.close();
});

it("while the server is frozen, batches wait on disk: spooled ones are not sent again until it answers a ping", async () => {
  // A frozen server (or a half-open connection) takes every byte and answers nothing: each batch sent to it
  // stays in the socket's buffer until the connection resets. Only the batches in flight when it froze may
  // fail; the rest go to the spool without touching the connection.
  const { rig, spool, stats, freeze, thaw, open } = await frozenRig({
    maxInFlightBytes: 16 * 2 ** 20,
    ackTimeoutMs: 500,
  });
  const publisher = open();
  const batches: SealedBatch[] = [];
  /** Batches submitted before the first publish timed out: the only ones that went to the frozen server. */
  let sentToFrozen: number | undefined;
  freeze();
  const started = Date.now();
  while (Date.now() - started < 3_000) {
    if (sentToFrozen === undefined && stats.publishErrors > 0) sentToFrozen = batches.length;
    const batch = batchOf(2_000);
    batches.push(batch);
    await publisher.submit(batch);
    await sleep(50);
  }
  await publisher.flush();
  expect(sentToFrozen).toBeGreaterThan(0);
  expect(stats.publishErrors).toBeLessThanOrEqual(sentToFrozen as number);
  expect(spool.batches).toBe(batches.length);

  thaw();
  await vi.waitFor(() => expect(spool.batches).toBe(0), { timeout: 15_000, interval: 100 });
  await publisher.flush();
  await expectStoredOnce(rig, batches);
  expect(stats.recordsSent).toBe(batches.length);
  await publisher.close();
});
