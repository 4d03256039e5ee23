/**
 * The mixer's storage engine behind one face: DuckDB in the isolate, the stored files' schema, the writer
 * and the object layout. Routes and the bridge import from here only, so the engine can change alone.
 */
export { type DuckDb, type DuckDbRow, getDuckDb } from "./duckdb.ts";
export type { IsolateMemoryReport } from "./isolate-memory.ts";
export { fluxRangeMetadata } from "./object-flux-range.ts";
export { timeRangeMetadata } from "./object-time-range.ts";
export {
  type ColumnType,
  MESSAGE_COLUMNS,
  type StoredColumn,
  TELEMETRY_COLUMNS,
} from "./parquet-schema.ts";
export {
  type TelemetryCompression,
  type TelemetryFileOptions,
  type TelemetryFormat,
  writeRecordsFile,
  writeTelemetryFile,
} from "./parquet-writer.ts";
export {
  groupByPartition,
  groupBySpec,
  messagesObjectKey,
  messagesRoot,
  type ObjectKeyOptions,
  type PartitionBy,
  partitionStart,
  telemetryFileId,
  telemetryObjectKey,
  telemetryRoot,
} from "./partition-path.ts";
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
