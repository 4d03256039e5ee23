/**
 * Telemetry queries over the stored Parquet objects, behind one face: routes pass validated parameters and a
 * resolved window and get the API's answer; which objects are read, how (DuckDB), and within what memory
 * stays in here.
 */
export { SCAN_BUDGET } from "./budget.ts";
export { logFilters, queryLogs } from "./logs.ts";
export { type MetricsRequest, metricsSql, queryMetrics } from "./metrics.ts";
export { queryTrace, queryTraces, traceFilters } from "./traces.ts";
