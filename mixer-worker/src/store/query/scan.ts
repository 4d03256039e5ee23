import type { TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import type { ScanReport } from "../../../../shared/telemetry/query-results.ts";
import { type DuckDb, type DuckDbRow, getDuckDb } from "../duckdb.ts";
import { holdBytes, sampleIsolateMemory } from "../isolate-memory.ts";
import { SCAN_BUDGET } from "./budget.ts";
import { readParquet } from "./sql.ts";
import {
  KnownObjects,
  type ObjectSource,
  type StandIn,
  type StoredObject,
  WindowObjects,
} from "./window-objects.ts";

/** Runs one SQL statement on the batch in hand. */
export type RunSql = (sql: string) => DuckDbRow[];

export interface ScanOptions<Row> {
  bucket: R2Bucket;
  /** The storage roots read (`telemetry/logs`, or several `messages/…` ones), as {@link WindowObjects} takes. */
  roots: readonly string[];
  window: TimeWindow;
  /** Reads only objects that may hold records of this flux id (by their metadata); the SQL still filters. */
  fluxId?: string | undefined;
  /** Leaves out a partition folder's objects when it resolves true for their listing (see WindowObjects). */
  standIn?: StandIn | undefined;
  /** The objects to read, when the caller knows them already: instead of listing the roots over the window. */
  objects?: readonly StoredObject[];
  /**
   * Adds a `filename` column to `from`: the object's key, after a `q<n>/` prefix (`q12/messages/fluxSpec/…`),
   * for answers that say which folder a row came from.
   */
  filename?: boolean;
  /**
   * How objects are grouped into batches (within the byte budget either way). `overlapping`: objects whose
   * times overlap, so a newest-first caller can stop after any batch. `partition`: the objects of one
   * partition, where the copies of a record live, so a batch can deduplicate on its own. `any`: as many as the
   * budget takes, for rows that add up across partitions (hour rollups, one small object each).
   */
  batches: "overlapping" | "partition" | "any";
  /**
   * The rows of one batch: `from` is the `read_parquet(…)` of its objects, `rows` about how many they hold.
   * May run several statements.
   */
  query(from: string, run: RunSql, rows: number): Row[];
  /** Takes a batch's rows (objects of a batch that could not be read contribute none). */
  collect(rows: Row[]): void;
  /** Whether the caller has all it needs, given the newest time any unread object can hold. */
  enough?(newest: number): boolean;
}

export interface ScanOutcome extends ScanReport {
  /** Set when a per-request bound stopped the scan before `enough`. */
  truncated?: string;
  /** With `truncated`: every row newer than this time was read; older ones may be missing. */
  boundary?: number;
}

const MAX_SKIPPED_LISTED = 10;
/** Names of registered files, unique within the isolate. */
let registered = 0;

/**
 * Reads a window's objects newest first, batch by batch within {@link SCAN_BUDGET}: each batch is fetched
 * from R2, registered in DuckDB, queried and dropped before the next, so memory stays bounded whatever the
 * window. An object that DuckDB cannot read is skipped and named; the rest of its batch is still read.
 *
 * @example
 * await scanWindow({ bucket, roots: ["telemetry/logs"], window, batches: "overlapping",
 *   query: (from, run) => run(`SELECT * FROM ${from} ORDER BY ts DESC LIMIT 50`),
 *   collect: (rows) => kept.push(...rows), enough: (newest) => kept.length >= 50 });
 */
export async function scanWindow<Row>(options: ScanOptions<Row>): Promise<ScanOutcome> {
  const outcome: ScanOutcome = { objects: 0, bytes: 0, skipped: [] };
  const skip = (key: string, reason: string) => {
    if (outcome.skipped.length < MAX_SKIPPED_LISTED) outcome.skipped.push({ key, reason });
  };
  const source: ObjectSource = options.objects
    ? new KnownObjects(options.objects)
    : new WindowObjects(options.bucket, options.roots, options.window, {
        fluxId: options.fluxId,
        standIn: options.standIn,
      });
  let carried: StoredObject | undefined;
  const nextObject = async (): Promise<StoredObject | undefined> => {
    if (carried) {
      const object = carried;
      carried = undefined;
      return object;
    }
    for (;;) {
      const next = await source.next();
      if (!next || "size" in next) return next;
      skip(next.key, next.reason);
    }
  };
  const peekNewest = () => carried?.newest ?? source.peekNewest();

  for (;;) {
    const newest = peekNewest();
    if (newest === undefined || options.enough?.(newest)) break;
    const batch: StoredObject[] = [];
    let batchBytes = 0;
    for (;;) {
      const object = await nextObject();
      if (!object) break;
      if (object.size > SCAN_BUDGET.maxObjectBytes) {
        skip(
          object.key,
          `${object.size} bytes: larger than the ${SCAN_BUDGET.maxObjectBytes} one query reads`,
        );
        continue;
      }
      const overBudget =
        outcome.objects + batch.length >= SCAN_BUDGET.maxObjects
          ? `${SCAN_BUDGET.maxObjects} objects`
          : outcome.bytes + batchBytes + object.size > SCAN_BUDGET.maxBytes
            ? `${SCAN_BUDGET.maxBytes} bytes`
            : undefined;
      const first = batch[0];
      const full = first !== undefined && batchBytes + object.size > SCAN_BUDGET.batchBytes;
      const apart =
        first !== undefined &&
        (options.batches === "overlapping"
          ? object.newest < Math.min(...batch.map((o) => o.oldest))
          : options.batches === "partition" && object.folder !== first.folder);
      if (overBudget || full || apart) {
        carried = object;
        if (overBudget && batch.length === 0) {
          outcome.truncated = `read ${overBudget}, the most one request reads: narrow the window or the filters`;
          outcome.boundary = object.newest;
        }
        break;
      }
      batch.push(object);
      batchBytes += object.size;
    }
    if (outcome.truncated || batch.length === 0) break;
    const files = await fetchObjects(options.bucket, batch);
    outcome.objects += files.length;
    outcome.bytes += files.reduce((sum, file) => sum + file.bytes.byteLength, 0);
    const rows = batch.reduce((sum, object) => sum + object.rows, 0);
    // The engine starts at the first batch: a window without objects never pays for it.
    const db = await getDuckDb();
    try {
      const query = (from: string, run: RunSql) => options.query(from, run, rows);
      options.collect(queryBatch(db, files, query, skip, options.filename === true));
    } catch (error) {
      if (!(error instanceof QueryMemoryError)) throw error;
      outcome.truncated = `a batch needed more than ${SCAN_BUDGET.queryMemory} of working memory: narrow the window or the filters`;
      outcome.boundary = Math.max(...batch.map((o) => o.newest));
      break;
    }
  }
  return outcome;
}

/** Two scans of one answer as one: what both read, and the first's truncation (or the second's). */
export function addScans(first: ScanOutcome, second: ScanOutcome): ScanOutcome {
  const truncated = first.truncated ?? second.truncated;
  const boundary = first.truncated ? first.boundary : second.boundary;
  return {
    objects: first.objects + second.objects,
    bytes: first.bytes + second.bytes,
    skipped: [...first.skipped, ...second.skipped].slice(0, MAX_SKIPPED_LISTED),
    rollups: (first.rollups ?? 0) + (second.rollups ?? 0),
    hour_rollups: (first.hour_rollups ?? 0) + (second.hour_rollups ?? 0),
    ...(truncated === undefined ? {} : { truncated }),
    ...(boundary === undefined ? {} : { boundary }),
  };
}

interface FetchedObject {
  readonly key: string;
  bytes: Uint8Array;
  /** Stops counting its bytes as held in JS (see holdBytes). */
  release(): void;
}

/** GETs a batch's objects a few at a time; one deleted since the listing (retention) is left out. */
async function fetchObjects(bucket: R2Bucket, batch: StoredObject[]): Promise<FetchedObject[]> {
  const files: FetchedObject[] = [];
  try {
    for (let i = 0; i < batch.length; i += SCAN_BUDGET.fetchConcurrency) {
      const slice = batch.slice(i, i + SCAN_BUDGET.fetchConcurrency);
      const bodies = await Promise.all(slice.map((object) => bucket.get(object.key)));
      for (const [j, body] of bodies.entries()) {
        if (!body) continue;
        const bytes = new Uint8Array(await body.arrayBuffer());
        files.push({ key: slice[j]?.key as string, bytes, release: holdBytes(bytes.byteLength) });
      }
    }
  } catch (error) {
    for (const file of files) file.release();
    throw error;
  }
  return files;
}

/** The batch's SQL needed more working memory than {@link SCAN_BUDGET} allows. */
class QueryMemoryError extends Error {}

/**
 * Registers a batch, runs the query over all of it, then drops it. When the query fails (a corrupt object,
 * or one with other columns), each object is queried alone so that only the culprits are skipped.
 */
function queryBatch<Row>(
  db: DuckDb,
  files: FetchedObject[],
  query: (from: string, run: RunSql) => Row[],
  skip: (key: string, reason: string) => void,
  filename: boolean,
): Row[] {
  // Named after the key (unique per isolate by the counter), so a `filename` column can tell the folder.
  const names = files.map((file) => `q${++registered}/${file.key}`);
  const run: RunSql = (sql) => db.query(sql);
  const attempt = (subset: string[]) => {
    try {
      return query(readParquet(subset, filename), run);
    } catch (error) {
      if (/out of memory/i.test(String((error as Error)?.message))) throw new QueryMemoryError();
      throw error;
    }
  };
  let trapped = false;
  db.query(`SET memory_limit = '${SCAN_BUDGET.queryMemory}'`);
  try {
    for (const [i, file] of files.entries()) db.registerBuffer(names[i] as string, file.bytes);
    // The engine holds its own copy now; let the fetched bytes go before the query allocates.
    for (const file of files) {
      file.bytes = new Uint8Array(0);
      file.release();
    }
    try {
      return attempt(names);
    } catch (error) {
      if (error instanceof QueryMemoryError || error instanceof WebAssembly.RuntimeError) throw error;
      if (names.length === 1) {
        skip(files[0]?.key as string, firstLine(error));
        return [];
      }
      return names.flatMap((name, i) => {
        try {
          return attempt([name]);
        } catch (alone) {
          if (alone instanceof QueryMemoryError || alone instanceof WebAssembly.RuntimeError) throw alone;
          skip(files[i]?.key as string, firstLine(alone));
          return [];
        }
      });
    }
  } catch (error) {
    // A trap leaves the engine unusable (getDuckDb starts a new one next time): nothing to drop.
    trapped = error instanceof WebAssembly.RuntimeError;
    throw error;
  } finally {
    sampleIsolateMemory();
    for (const file of files) file.release();
    if (!trapped) {
      for (const name of names) db.dropFile(name);
      db.query("RESET memory_limit");
    }
  }
}

const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split("\n")[0] ?? "";
