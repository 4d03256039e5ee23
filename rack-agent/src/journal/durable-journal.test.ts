import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { expect, it, onTestFinished } from "vitest";
import { startTelemetryRig } from "../../../test/helpers/rack-telemetry.ts";
import { readTelemetryStream } from "../../../test/helpers/telemetry-stream.ts";
import { sampleMessage } from "../gears/gear-harness.ts";
import { Journal } from "./journal.ts";

/** A durable journal record (what a guaranteed wire waits for before its lane acks) on a real nats-server. */

const crossing = { direction: "internal", status: "ok", src: "a", dst: "b" } as const;

async function journaledIds(rig: Awaited<ReturnType<typeof startTelemetryRig>>): Promise<string[]> {
  const stored = await readTelemetryStream(rig.jsm);
  return stored
    .filter((m) => m.batch.kind === "messages")
    .flatMap((m) => m.batch.records.map((r) => (r as { flux_id: string }).flux_id));
}

it("resolves once JetStream stored the record, without waiting for the flush interval", async () => {
  const rig = await startTelemetryRig();
  // A flush interval longer than the test: only the durable path can have sent the batch.
  const telemetry = await rig.newTelemetry({ flushIntervalMs: 600_000 });
  onTestFinished(() => telemetry.close());
  const journal = new Journal(telemetry);
  const msgs = Array.from({ length: 20 }, () => sampleMessage());
  await Promise.all(msgs.map((msg) => journal.record(msg, crossing, { durable: true })));
  // Records of one turn of the event loop travel together.
  const stored = await readTelemetryStream(rig.jsm);
  expect(stored.filter((m) => m.batch.kind === "messages")).toHaveLength(1);
  expect(await journaledIds(rig)).toEqual(msgs.map((m) => m.id));
});

it("with the bus down, resolves once the record is in the spool on disk, and it is sent when the bus is back", async () => {
  const rig = await startTelemetryRig({ durable: true });
  const telemetry = await rig.newTelemetry({ flushIntervalMs: 600_000, retryIntervalMs: 200 });
  onTestFinished(() => telemetry.close());
  await rig.stopServer();
  const msg = sampleMessage();
  await new Journal(telemetry).record(msg, crossing, { durable: true });
  const spooled = await readdir(join(rig.stateDir, "spool", "journal"));
  expect(spooled.filter((name) => name.endsWith(".cbor"))).toHaveLength(1);
  await rig.startServer();
  await expect.poll(() => journaledIds(rig), { timeout: 20_000 }).toEqual([msg.id]);
});

it("rejects when the client is closed: a guaranteed lane then leaves its message unacked", async () => {
  const rig = await startTelemetryRig();
  const telemetry = await rig.newTelemetry();
  await telemetry.close();
  await expect(new Journal(telemetry).record(sampleMessage(), crossing, { durable: true })).rejects.toThrow(
    "journal: the telemetry client is closed",
  );
});
