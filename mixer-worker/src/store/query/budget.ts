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
  /** Bytes fetched per request, which bounds its CPU time. */
  maxBytes: 768 * MiB,
  /** GETs in flight while a batch is fetched. */
  fetchConcurrency: 6,
} as const;
