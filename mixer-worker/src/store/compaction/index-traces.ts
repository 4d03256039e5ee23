import { TRACE_INDEX } from "../../../../shared/storage/object-keys.ts";
import { getDuckDb } from "../duckdb.ts";
import { markFailed, sidecarWork } from "../partition-sidecars.ts";
import { traceBloom, traceBloomShape } from "../trace-id-bloom.ts";
import { eachBatch, liveSources } from "./source-batches.ts";

/**
 * Trace ids an index holds at most: past it (a partition of a million traces) the partition is left without
 * one and read as before, rather than holding that many ids in the isolate.
 */
const MAX_INDEXED_TRACES = 500_000;

/** What indexing a folder did. */
export interface TraceIndexReport {
  /** Whether an index was written (false: the stored one is current, or there is nothing to index). */
  written: boolean;
  traces: number;
  /** Why none could be made (the partition is then read from its rows). */
  error?: string;
}

/**
 * Indexes one traces partition folder (`telemetry/traces/2026/11/27/09/`): a Bloom filter of the trace ids
 * its live objects hold (`telemetry/traces_ids/…/trace_ids.bloom`), unless the stored one was made from the
 * same objects. A trace lookup reads a partition's spans only when its filter may hold the trace, so a trace
 * by id reads about one hour's objects instead of every hour's (see queryTrace).
 *
 * @example await indexTraces(env.TELEMETRY, "telemetry/traces/2026/11/27/09/");
 */
export async function indexTraces(bucket: R2Bucket, folder: string): Promise<TraceIndexReport> {
  const [work] = (await sidecarWork(bucket, [TRACE_INDEX], folder)) ?? [];
  if (!work) return { written: false, traces: 0 };
  const ids = new Set<string>();
  const db = await getDuckDb();
  try {
    await eachBatch(db, bucket, liveSources(work.live), { bytesRead: 0 }, (name) => {
      if (ids.size > MAX_INDEXED_TRACES) return;
      for (const row of db.query(`SELECT DISTINCT trace_id FROM read_parquet('${name}')`)) {
        ids.add(String(row.trace_id));
      }
    });
  } catch (error) {
    return { written: false, traces: 0, error: await markFailed(bucket, work, error) };
  }
  if (ids.size > MAX_INDEXED_TRACES) {
    const error = await markFailed(bucket, work, new Error(`more than ${MAX_INDEXED_TRACES} traces`));
    return { written: false, traces: 0, error };
  }
  const shape = traceBloomShape(ids.size);
  await bucket.put(work.key, traceBloom(ids, shape), {
    customMetadata: {
      sources: work.sources,
      records: String(ids.size),
      bits: String(shape.bits),
      hashes: String(shape.hashes),
    },
  });
  return { written: true, traces: ids.size };
}
