import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { telemetryBatchSchema } from "../../../shared/telemetry/batch.ts";
import {
  recordSchemaByKind,
  type TelemetryKind,
  type TelemetryRecord,
} from "../../../shared/telemetry/records.ts";

/** A record that failed validation, kept whole for the dead-letter subject. */
export interface RejectedRecord {
  index: number;
  reason: string;
  record: unknown;
}

export type DecodedBatch =
  | { ok: true; kind: TelemetryKind; records: TelemetryRecord[]; rejected: RejectedRecord[] }
  | { ok: false; reason: string };

/**
 * Decodes one telemetry message: a CBOR `{v, kind, records}` map. The message as a whole fails only when it
 * is not such a map (bad CBOR, wrong shape, too large); a bad record is rejected alone, its neighbours kept.
 *
 * @example decodeTelemetryBatch(msg.data, 2_097_152)
 */
export function decodeTelemetryBatch(data: Uint8Array, maxPayloadSize: number): DecodedBatch {
  if (data.byteLength > maxPayloadSize) {
    return {
      ok: false,
      reason: `message of ${data.byteLength} bytes exceeds max_payload_size ${maxPayloadSize}`,
    };
  }
  let value: unknown;
  try {
    value = cbor.decode(data);
  } catch (error) {
    return { ok: false, reason: `not valid CBOR: ${(error as Error).message}` };
  }
  const batch = telemetryBatchSchema.safeParse(value);
  if (!batch.success) {
    const issue = batch.error.issues[0];
    return {
      ok: false,
      reason: `not a telemetry batch: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    };
  }
  const schema = recordSchemaByKind[batch.data.kind];
  const records: TelemetryRecord[] = [];
  const rejected: RejectedRecord[] = [];
  batch.data.records.forEach((record, index) => {
    const parsed = schema.safeParse(record);
    if (parsed.success) records.push(parsed.data);
    else {
      const issue = parsed.error.issues[0];
      rejected.push({
        index,
        record,
        reason: `records[${index}].${issue?.path.join(".")}: ${issue?.message}`,
      });
    }
  });
  return { ok: true, kind: batch.data.kind, records, rejected };
}
