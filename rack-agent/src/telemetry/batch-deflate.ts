import { deflateRawSync, inflateRawSync } from "node:zlib";
import { envelope, envelopeContents } from "../../../shared/telemetry/batch-envelope.ts";

/**
 * Deflates a sealed batch for the bus (level 1: about 2 ms a MiB here, and levels above it gain a few percent
 * for twice the time), in its envelope; a batch that would not shrink goes as it is.
 *
 * @example const data = deflateBatch(encodeBatch("logs", count, records));
 */
export function deflateBatch(batch: Uint8Array): Uint8Array {
  const deflated = envelope(deflateRawSync(batch, { level: 1 }));
  return deflated.length < batch.length ? deflated : batch;
}

/**
 * The `{v, kind, records}` CBOR of a message from the bus, deflated or not (for tools and tests in Node; the
 * mixer inflates with its runtime's streams).
 *
 * @example const batch = telemetryBatchSchema.parse(decode(openBatch(msg.data)));
 */
export function openBatch(data: Uint8Array): Uint8Array {
  const deflated = envelopeContents(data);
  return deflated ? new Uint8Array(inflateRawSync(deflated)) : data;
}
