const MiB = 1024 * 1024;

/**
 * What one query request may read. A Worker isolate has 128 MB, and DuckDB's wasm heap grows to the largest
 * amount ever registered at once and never shrinks, so objects are read in batches: the bytes of one batch
 * are held twice at most (fetched, then copied into the engine), plus the query's own working memory.
 */
export const SCAN_BUDGET = {
  /** Bytes registered in DuckDB at once. */
  batchBytes: 16 * MiB,
  /** A larger object is read alone; one beyond this is skipped and named in the answer. */
  maxObjectBytes: 32 * MiB,
  /** DuckDB's working memory for one batch's SQL (`SET memory_limit`; registered bytes are not counted). */
  queryMemory: "48MB",
  /** Objects fetched per request: each GET is a subrequest, and Workers cap those per request. */
  maxObjects: 500,
  /** Bytes fetched per request, which bounds its CPU time (776 MB took 28–37 s locally, past 30 s of CPU). */
  maxBytes: 256 * MiB,
  /** GETs in flight while a batch is fetched. */
  fetchConcurrency: 6,
  /** Queries reading objects at once in one isolate: each holds a fetched batch in JS (see ScanSlots). */
  runningQueries: 2,
  /** Queries waiting for one of those slots; more are answered 503 at once. */
  waitingQueries: 6,
  /** How long a query waits for a slot before it is answered 503. */
  waitMs: 10_000,
} as const;
