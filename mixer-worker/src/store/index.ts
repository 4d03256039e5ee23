/**
 * The mixer's storage behind one face of operations: store these records (ingest), answer this query (the
 * routes), compact this partition (the compactor), list the stored files. DuckDB, the Parquet writer and
 * which objects a reader reads stay inside, so the engine can change alone; the object-key layout is
 * shared/storage/object-keys.ts's alone (retention, dead letters and the bridge's notes to the compactor read
 * keys through it too).
 */
export {
  type CompactionSettings,
  compactPartition,
  type PartitionCompaction,
  partitionFolders,
} from "./compaction/compact-partition.ts";
export type { IsolateMemoryReport } from "./isolate-memory.ts";
export {
  type AdmittedQuery,
  admitQuery,
  type BusyStore,
  type ListCursor,
  type PagedRequest,
  queryFlux,
  queryLogs,
  queryMessages,
  queryMetrics,
  queryTrace,
  queryTraces,
  type StoredPage,
} from "./query/index.ts";
export { encodeRows } from "./rows/encode-rows.ts";
export { RowArena } from "./rows/row-arena.ts";
export type { RowFormat, StoredRow } from "./rows/stored-row.ts";
export { transcodeBatch } from "./rows/transcode-cbor.ts";
export { listStoredFiles, type StoredFilesPage } from "./stored-files.ts";
export {
  MAX_ROWS_PER_FILE,
  type StoreResult,
  storedColumns,
  storeRecords,
  storeRows,
  TelemetryEncodeError,
} from "./write-records.ts";
