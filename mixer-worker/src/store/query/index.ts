/**
 * Telemetry and message queries over the stored Parquet objects, behind one face: routes pass validated parameters and a
 * resolved window and get the API's answer; which objects are read, how (DuckDB), and within what memory
 * stays in here.
 */
export { type AdmittedQuery, admitQuery, type BusyStore } from "./admission.ts";
export { SCAN_BUDGET } from "./budget.ts";
export { fluxSql, queryFlux } from "./flux.ts";
export { logsSelection, queryLogs } from "./logs.ts";
export { messagesSelection, queryMessages } from "./messages.ts";
export { type MetricsRequest, metricsSql, queryMetrics } from "./metrics.ts";
export {
  type ListCursor,
  type PagedRequest,
  type PageSelection,
  pageSql,
  type StoredPage,
} from "./newest-page.ts";
export { queryTrace, queryTraces, traceSql, tracesSelection } from "./traces.ts";
