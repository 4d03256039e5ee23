import { type JetStreamManager, PubHeaders } from "@nats-io/jetstream";
import { decode } from "cbor-x";
import { TELEMETRY_STREAM } from "../../shared/fluxmsg/subjects.ts";
import { batchRecords, type TelemetryBatch, telemetryBatchSchema } from "../../shared/telemetry/batch.ts";

/** The batch with its entity written into each record, as the mixer reads them. */
const wholeRecords = (batch: TelemetryBatch): TelemetryBatch => ({ ...batch, records: batchRecords(batch) });

/** One message of the telemetry stream, decoded as the mixer would. */
export interface StoredBatch {
  seq: number;
  subject: string;
  msgID: string | undefined;
  /** Payload bytes (the `Nats-Msg-Id` header comes on top). */
  bytes: number;
  batch: TelemetryBatch;
}

/**
 * Reads every message of the telemetry stream, in order, and decodes each batch (throws on a bad batch).
 *
 * @example
 * const stored = await readTelemetryStream(jsm);
 * const records = stored.flatMap((m) => m.batch.records);
 */
export async function readTelemetryStream(jsm: JetStreamManager): Promise<StoredBatch[]> {
  const { state } = await jsm.streams.info(TELEMETRY_STREAM);
  const out: StoredBatch[] = [];
  if (state.messages === 0) return out;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const message = await jsm.streams.getMessage(TELEMETRY_STREAM, { seq });
    if (!message) continue;
    out.push({
      seq,
      subject: message.subject,
      msgID: message.header.get(PubHeaders.MsgIdHdr) || undefined,
      bytes: message.data.length,
      batch: wholeRecords(telemetryBatchSchema.parse(decode(message.data))),
    });
  }
  return out;
}
