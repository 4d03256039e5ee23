import type { MixerConfig } from "../../../shared/config/index.ts";
import { JOURNAL_KIND, type JournalRecord } from "../../../shared/journal/record.ts";
import {
  groupByPartition,
  groupBySpec,
  messagesObjectKey,
  newFileId,
  telemetryObjectKey,
} from "../../../shared/storage/object-keys.ts";
import type { BatchKind } from "../../../shared/telemetry/batch.ts";
import type { TelemetryRecord } from "../../../shared/telemetry/records.ts";
import { fluxRangeMetadata } from "./object-flux-range.ts";
import { timeRangeMetadata } from "./object-time-range.ts";
import { MESSAGE_COLUMNS, type StoredColumn, TELEMETRY_COLUMNS } from "./parquet-schema.ts";
import { writeRowsFile } from "./parquet-writer.ts";
import { encodeRows } from "./rows/encode-rows.ts";
import type { StoredRow } from "./rows/stored-row.ts";

type Storage = MixerConfig["observability"]["embedded"]["storage"];

/** One object holds at most this many rows: the writer stages them in a wasm heap that never shrinks. */
export const MAX_ROWS_PER_FILE = 50_000;

/**
 * Every flush object is in R2 within this long of the time its ULID names, or its write counts as failed
 * (the records are not acked, and come again under a new ULID). The compactor relies on it: it takes only
 * objects whose ULID is older than this, so that every object that will ever have a ULID in a range it
 * replaces was already listed (see compaction/plan.ts).
 */
export const WRITE_SETTLE_MS = 60_000;

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
 * Stores one flush of records of one batch kind where that kind lives (see {@link storeRows}).
 *
 * @example await storeRecords(env.TELEMETRY, decoded.kind, decoded.records, storage);
 */
export function storeRecords(
  bucket: R2Bucket,
  kind: BatchKind,
  records: readonly (TelemetryRecord | JournalRecord)[],
  storage: Storage,
): Promise<StoreResult> {
  return storeRows(bucket, kind, encodeRows(storedColumns(kind), records, storage.format), storage);
}

/** The columns a batch kind is stored with. */
export const storedColumns = (kind: BatchKind): readonly StoredColumn[] =>
  kind === JOURNAL_KIND ? MESSAGE_COLUMNS : TELEMETRY_COLUMNS[kind];

/**
 * Stores one flush of rows of one batch kind, encoded for `storage.format`: journal records under
 * `messages/` (one object per spec, generic for none), telemetry under `telemetry/<kind>/`; one new object
 * per partition the rows fall in. An error leaves earlier objects written; the caller does not ack, and the
 * redelivered records are deduplicated by record_id on read.
 *
 * @example await storeRows(env.TELEMETRY, "logs", rows, config.observability.embedded.storage);
 */
export async function storeRows(
  bucket: R2Bucket,
  kind: BatchKind,
  rows: readonly StoredRow[],
  storage: Storage,
): Promise<StoreResult> {
  const result = emptyResult();
  if (kind !== JOURNAL_KIND) {
    await storePartitioned(bucket, rows, storage, result, {
      what: kind,
      columns: TELEMETRY_COLUMNS[kind],
      key: (start, fileId) =>
        telemetryObjectKey(kind, start, { partitionBy: storage.partition_by, ...storage, fileId }),
    });
    return result;
  }
  for (const [spec, group] of groupBySpec(rows)) {
    await storePartitioned(bucket, group, storage, result, {
      what: spec === null ? "generic messages" : `${spec} messages`,
      columns: MESSAGE_COLUMNS,
      key: (start, fileId) =>
        messagesObjectKey(spec, start, { partitionBy: storage.partition_by, ...storage, fileId }),
    });
  }
  return result;
}

const emptyResult = (): StoreResult => ({ keys: [], bytes: 0, encodeMs: 0, putMs: 0 });

interface Layout {
  /** Names the records in errors. */
  what: string;
  columns: readonly StoredColumn[];
  /** The object key of `fileId` in the partition starting at `start`. */
  key(start: number, fileId: string): string;
}

async function storePartitioned(
  bucket: R2Bucket,
  rows: readonly StoredRow[],
  storage: Storage,
  result: StoreResult,
  layout: Layout,
): Promise<void> {
  for (const [start, partition] of groupByPartition(rows, storage.partition_by)) {
    for (let from = 0; from < partition.length; from += MAX_ROWS_PER_FILE) {
      const group = partition.slice(from, from + MAX_ROWS_PER_FILE);
      const t0 = performance.now();
      const bytes = await writeRowsFile(layout.what, layout.columns, group, storage).catch((error: Error) => {
        throw new TelemetryEncodeError(`cannot write ${layout.what} as ${storage.format}: ${error.message}`);
      });
      const t1 = performance.now();
      // Named once encoded, just before the put, so that the ULID's time is close to when R2 has it.
      const named = Date.now();
      const key = layout.key(start, newFileId(named));
      await bucket.put(key, bytes, {
        customMetadata: {
          records: String(group.length),
          ...timeRangeMetadata(group),
          ...fluxRangeMetadata(group),
        },
      });
      if (Date.now() - named > WRITE_SETTLE_MS) {
        // A compaction pass may have listed the partition without it while taking later ULIDs: the object
        // could then be hidden behind its output. Failing the write makes the records come again, anew.
        throw new Error(
          `R2 took ${Date.now() - named} ms to store ${key}, more than the ${WRITE_SETTLE_MS} ms a write may take; written again`,
        );
      }
      result.encodeMs += t1 - t0;
      result.putMs += performance.now() - t1;
      result.bytes += bytes.byteLength;
      result.keys.push(key);
    }
  }
}
