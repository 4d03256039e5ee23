/**
 * The mixer's storage behind one face of operations: store these records (ingest), answer this query (the
 * routes), compact this partition (the compactor), list the stored files. The object-key layout
 * (shared/storage/object-keys.ts), DuckDB, the Parquet writer and which objects a reader reads stay inside, so
 * the engine can change alone.
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
export { listStoredFiles, type StoredFilesPage } from "./stored-files.ts";
export {
  MAX_ROWS_PER_FILE,
  type StoreResult,
  storeRecords,
  TelemetryEncodeError,
} from "./write-records.ts";
