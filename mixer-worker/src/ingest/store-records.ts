import type { MixerConfig } from "../../../shared/config/index.ts";
import type { RecordOf, TelemetryKind, TelemetryRecord } from "../../../shared/telemetry/records.ts";
import {
  groupByPartition,
  telemetryObjectKey,
  timeRangeMetadata,
  writeTelemetryFile,
} from "../store/index.ts";

type Storage = MixerConfig["observability"]["embedded"]["storage"];

/** One object holds at most this many rows: the writer stages them in a wasm heap that never shrinks. */
export const MAX_ROWS_PER_FILE = 50_000;

/**
 * The records themselves could not be written (a value the file format cannot hold). Unlike a failed R2
 * put, retrying the same records fails the same way: the batch is dead-lettered instead.
 */
export class TelemetryEncodeError extends Error {
  override name = "TelemetryEncodeError";
}

/** What one store did, for the bridge's counters and the ingest benchmark's "where the time goes". */
export interface StoreResult {
  keys: string[];
  bytes: number;
  /** Milliseconds encoding files (DuckDB) and putting them to R2. */
  encodeMs: number;
  putMs: number;
}

/**
 * Writes one flush of records of one kind to R2: one object per partition their timestamps fall in.
 * An error leaves earlier partitions written; the caller does not ack, and the redelivered records are
 * deduplicated by record_id on read.
 *
 * @example await storeTelemetryRecords(env.TELEMETRY, "logs", records, config.observability.embedded.storage);
 */
export async function storeTelemetryRecords(
  bucket: R2Bucket,
  kind: TelemetryKind,
  records: TelemetryRecord[],
  storage: Storage,
): Promise<StoreResult> {
  const result: StoreResult = { keys: [], bytes: 0, encodeMs: 0, putMs: 0 };
  for (const [start, partition] of groupByPartition(records, storage.partition_by)) {
    for (let from = 0; from < partition.length; from += MAX_ROWS_PER_FILE) {
      const group = partition.slice(from, from + MAX_ROWS_PER_FILE);
      const key = telemetryObjectKey(kind, start, { partitionBy: storage.partition_by, ...storage });
      const t0 = performance.now();
      const bytes = await writeTelemetryFile(kind, group as RecordOf<typeof kind>[], storage).catch(
        (error: Error) => {
          throw new TelemetryEncodeError(`cannot write ${kind} as ${storage.format}: ${error.message}`);
        },
      );
      const t1 = performance.now();
      await bucket.put(key, bytes, {
        customMetadata: { records: String(group.length), ...timeRangeMetadata(group) },
      });
      result.encodeMs += t1 - t0;
      result.putMs += performance.now() - t1;
      result.bytes += bytes.byteLength;
      result.keys.push(key);
    }
  }
  return result;
}
