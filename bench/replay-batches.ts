/**
 * The mixer alone: each rack's batches built once as its telemetry client builds them (records encoded by
 * `encodeTransient`, copied into a `RecordBatch` up to 1 MiB), then published again and again with new
 * record ids as fast as JetStream acks them. The bridge has a backlog from the first second, and the emitter
 * costs a fraction of what 4 clients encoding every record do (about a core at 100k journal records/s on
 * these 2-core machines, which then starves the mixer being measured).
 */
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { RecordBatch } from "../rack-agent/src/telemetry/record-batch.ts";
import { encodeTransient } from "../rack-agent/src/telemetry/transient-cbor.ts";
import { uuidv7 } from "../shared/random/uuidv7.ts";
import type { TestMixer } from "../test/helpers/test-mixer.ts";
import { benchJournalEntry, benchLog } from "./bench-records.ts";
import { rackCredentials } from "./bus-credentials.ts";

export type ReplaySignal = "logs" | "journal";

/** The client's batch limit: `rack.max_payload_size` (1 MiB) less the `Nats-Msg-Id` header. */
const BATCH_LIMIT = 1_048_576 - 64;
/** Batches each rack has in flight (unacked) at once. */
const WINDOW = 8;
/** One record as the client builds it (same fields, same key order; its entity is the batch's), the i-th. */
function record(signal: ReplaySignal, i: number): object {
  const own = { record_id: uuidv7() };
  if (signal === "logs") return { ...own, ts: Date.now(), flux_id: null, ...benchLog(i) };
  return { ...own, ...benchJournalEntry(i) };
}

/** A full batch of one rack's records, and where each record id's last 12 hex digits sit in it. */
function template(signal: ReplaySignal, entity: { id: string; name: string }, subject: string) {
  const batch = new RecordBatch(signal === "logs" ? "logs" : "messages", entity);
  const ids: string[] = [];
  for (let i = 0; ; i++) {
    const one = record(signal, i) as { record_id: string };
    const encoded = encodeTransient(one);
    if (!batch.fits(encoded.length, BATCH_LIMIT)) break;
    batch.add(encoded);
    ids.push(one.record_id);
  }
  const { data } = batch.seal(subject);
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const idTails = ids.map((id) => {
    const at = text.indexOf(id, 0, "latin1");
    if (at < 0) throw new Error(`record id ${id} not found in its batch`);
    return at + 24;
  });
  return { data, idTails };
}

/**
 * Publishes `total` records (rounded up to whole batches) spread over `racks` racks on `mixer`'s bus; each
 * record id is the template's with a counter in its last 12 hex digits, so none repeats.
 *
 * @example const sent = await replayRacks(mixer, "journal", 4, 2_000_000);
 */
export async function replayRacks(
  mixer: TestMixer,
  signal: ReplaySignal,
  racks: number,
  total: number,
): Promise<{ sent: number; batches: number; bytes: number }> {
  const results = await Promise.all(
    Array.from({ length: racks }, (_, rack) => replayRack(mixer, signal, rack, Math.ceil(total / racks))),
  );
  return {
    sent: results.reduce((n, r) => n + r.sent, 0),
    batches: results.reduce((n, r) => n + r.batches, 0),
    bytes: results.reduce((n, r) => n + r.bytes, 0),
  };
}

async function replayRack(mixer: TestMixer, signal: ReplaySignal, rack: number, records: number) {
  const entity = { id: uuidv7(), name: `bench-${signal}-${rack}` };
  const subject = `flux.${signal === "logs" ? "telemetry.logs" : "journal"}.${entity.name}`;
  const { data, idTails } = template(signal, entity, subject);
  const nc = await connect({
    servers: mixer.natsUrl,
    ...(await rackCredentials(mixer, entity.id, entity.name)),
  });
  const js = jetstream(nc, { domain: "flux" });
  const batches = Math.ceil(records / idTails.length);
  const inFlight = new Set<Promise<unknown>>();
  // Distinct across racks too: each counts in its own 2^40.
  let counter = rack * 2 ** 40;
  for (let b = 0; b < batches; b++) {
    // A copy per publish: the client keeps the bytes it was given until they are written out.
    const copy = data.slice();
    for (const at of idTails) copy.set(hex12(counter++), at);
    const p = js.publish(subject, copy, { msgID: uuidv7() }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await nc.close();
  return { sent: batches * idTails.length, batches, bytes: batches * data.length };
}

const HEX = new TextEncoder().encode("0123456789abcdef");
const digits = new Uint8Array(12);

/** `n` as 12 lowercase hex digits (ASCII bytes). */
function hex12(n: number): Uint8Array {
  let rest = n;
  for (let i = 11; i >= 0; i--) {
    digits[i] = HEX[rest % 16] as number;
    rest = Math.floor(rest / 16);
  }
  return digits;
}
