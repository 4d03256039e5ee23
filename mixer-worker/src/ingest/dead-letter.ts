import type { JetStreamClient } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/nats-core";
import { TELEMETRY_DEAD_LETTER } from "../../../shared/fluxmsg/subjects.ts";
import { deadLetterObjectKey } from "../../../shared/storage/object-keys.ts";
import { consoleLine } from "../self/console-line.ts";

/** Room left in a NATS message for our headers. */
const HEADER_ROOM = 4_096;

export type DeadLetter = (subject: string, reason: string, data: Uint8Array) => Promise<void>;

/**
 * Sends what ingest refuses to `<prefix>.<third subject token>`: `flux.dlq.telemetry.<kind>` by default,
 * `flux.dlq.journal.<rack>` for journal records (the telemetry stream keeps both), with the reason
 * and the original subject as headers, and resolves only once JetStream stored it: the caller acks the
 * original message after that, never before. A body too large for one NATS message goes to R2 under
 * `deadletter/YYYY/MM/DD/` and the dead letter points at it.
 *
 * @example const deadLetter = deadLetterSink(nc, js, env.TELEMETRY); await deadLetter(msg.subject, "bad CBOR", msg.data);
 */
export function deadLetterSink(
  nc: NatsConnection,
  js: JetStreamClient,
  bucket: R2Bucket,
  prefix: string = TELEMETRY_DEAD_LETTER,
): DeadLetter {
  return async function deadLetter(subject, reason, data) {
    const h = headers();
    h.set("Fluxrig-Dead-Letter-Reason", reason.slice(0, 1_000));
    h.set("Fluxrig-Original-Subject", subject);
    let body = data;
    if (data.byteLength + HEADER_ROOM > (nc.info?.max_payload ?? 1_048_576)) {
      const key = deadLetterObjectKey(Date.now());
      await bucket.put(key, data, { customMetadata: { reason: reason.slice(0, 1_000), subject } });
      h.set("Fluxrig-Dead-Letter-Object", key);
      body = new Uint8Array(0);
    }
    await js.publish(`${prefix}.${subject.split(".")[2] ?? "unknown"}`, body, { headers: h });
    consoleLine("warn", `snake bridge: dead-lettered a message from ${subject}: ${reason.slice(0, 300)}`);
  };
}
