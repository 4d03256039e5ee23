import type { DuckDb } from "../duckdb.ts";
import { holdBytes, sampleIsolateMemory } from "../isolate-memory.ts";
import { objectTimeRange } from "../object-time-range.ts";

const MiB = 1024 * 1024;

/**
 * What one merge may hold, for the isolate's 128 MB: source bytes are fetched and registered a batch at a
 * time (held twice at most, fetched and copied into the engine), the rows of one output part sit in a table
 * of the engine, and DuckDB's working memory is capped (`SET memory_limit`, which counts that table but not
 * registered files). A part that would not fit fails cleanly and the caller halves `partRows`.
 */
export const MERGE_BUDGET = {
  /** Source bytes registered at once. */
  batchBytes: 16 * MiB,
  /** DuckDB's memory for the part's rows, the census and the sort. */
  memory: "48MB",
  /** GETs in flight while a batch is fetched. */
  fetchConcurrency: 6,
  /** (record id, time, source) triples the census holds at once; more rows take several passes by id hash. */
  censusRows: 400_000,
} as const;

/** One object merged: a flush object, or a part of an earlier compaction. */
export interface MergeSource {
  key: string;
  size: number;
  /** Rows, from the writer's metadata (an estimate otherwise). */
  rows: number;
  /** Epoch ms of its oldest and newest row (the partition's span when unknown). */
  oldest: number;
  newest: number;
  /** The write its rows were first stored by (its key's STORED_AS_PATTERN): copies of a record keep the smallest. */
  storedAs: string;
}

/** A part needed more than {@link MERGE_BUDGET}'s memory: the caller tries again with smaller parts. */
export class MergeMemoryError extends Error {
  override name = "MergeMemoryError";
}

let names = 0;
/** A name for the engine's tables and files, unique within the isolate. */
export const uniqueName = (prefix: string) => `${prefix}${++names}`;

export interface Ranked {
  source: MergeSource;
  /** Its place in first-stored order; copies of one write share it. */
  rank: number;
}

/**
 * A folder's live objects as sources to read whole (a sidecar is made from them), each its own write: their
 * time ranges from the writer's metadata, rows from it too (else estimated from the size).
 */
export function liveSources(live: readonly R2Object[]): Ranked[] {
  return rankSources(
    live.map((object) => {
      const range = objectTimeRange(object.customMetadata);
      return {
        key: object.key,
        size: object.size,
        rows: Number(object.customMetadata?.records) || Math.ceil(object.size / 16),
        oldest: range?.min ?? 0,
        newest: range?.max ?? Number.MAX_SAFE_INTEGER,
        storedAs: object.key,
      };
    }),
  );
}

/** Ranks sources by the write their rows were first stored by (smallest first). */
export function rankSources(sources: readonly MergeSource[]): Ranked[] {
  const order = [...new Set(sources.map((source) => source.storedAs))].sort();
  return sources.map((source) => ({ source, rank: order.indexOf(source.storedAs) }));
}

/**
 * Fetches `ranked`'s objects in batches of at most {@link MERGE_BUDGET}'s bytes, registers each batch and
 * calls `each` for every object in it (one synchronous stretch: no other request's SQL runs meanwhile), then
 * drops them. A source gone from R2 (retention deleted its partition) fails the merge.
 */
export async function eachBatch(
  db: DuckDb,
  bucket: R2Bucket,
  ranked: readonly Ranked[],
  report: { bytesRead: number },
  each: (name: string, rank: number) => void,
): Promise<void> {
  for (let i = 0; i < ranked.length; ) {
    const batch: Ranked[] = [];
    let bytes = 0;
    while (i < ranked.length) {
      const next = ranked[i] as Ranked;
      if (batch.length > 0 && bytes + next.source.size > MERGE_BUDGET.batchBytes) break;
      batch.push(next);
      bytes += next.source.size;
      i++;
    }
    const fetched: { name: string; rank: number; bytes: Uint8Array; release: () => void }[] = [];
    try {
      for (let j = 0; j < batch.length; j += MERGE_BUDGET.fetchConcurrency) {
        const slice = batch.slice(j, j + MERGE_BUDGET.fetchConcurrency);
        const bodies = await Promise.all(slice.map(({ source }) => bucket.get(source.key)));
        for (const [k, body] of bodies.entries()) {
          const { source, rank } = slice[k] as Ranked;
          if (!body)
            throw new Error(`${source.key} is gone from R2 (retention?); the partition is merged later`);
          const data = new Uint8Array(await body.arrayBuffer());
          fetched.push({
            name: `${uniqueName(`m`)}/${source.key}`,
            rank,
            bytes: data,
            release: holdBytes(data.byteLength),
          });
        }
      }
      guard(db, () => {
        const registered: string[] = [];
        try {
          for (const file of fetched) {
            db.registerBuffer(file.name, file.bytes);
            registered.push(file.name);
            file.bytes = new Uint8Array(0);
            file.release();
          }
          for (const file of fetched) each(file.name, file.rank);
        } finally {
          for (const name of registered) db.dropFile(name);
        }
      });
      report.bytesRead += bytes;
    } finally {
      for (const file of fetched) file.release();
    }
  }
}

/**
 * Runs engine work under the merge's memory limit, turning DuckDB's out-of-memory error into
 * {@link MergeMemoryError}.
 */
export function guard<T>(db: DuckDb, work: () => T): T {
  db.query(`SET memory_limit = '${MERGE_BUDGET.memory}'`);
  try {
    return work();
  } catch (error) {
    if (/out of memory/i.test(String((error as Error)?.message))) {
      throw new MergeMemoryError(`a merged part needed more than ${MERGE_BUDGET.memory}`, { cause: error });
    }
    throw error;
  } finally {
    sampleIsolateMemory();
    try {
      db.query("RESET memory_limit");
    } catch {
      // A trap: the engine is started anew next time.
    }
  }
}
