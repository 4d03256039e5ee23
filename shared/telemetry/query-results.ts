import type { LogRecord, MetricRecord, SpanRecord } from "./records.ts";

/**
 * The telemetry query API's answers, as the mixer sends them and the CLI reads them. Times are RFC 3339
 * UTC strings with milliseconds.
 */

/** The window a query covered: `since` inclusive, `until` exclusive. */
export interface AppliedWindow {
  since: string;
  until: string;
}

/** What a query read, and whether a bound cut it short. */
export interface ScanReport {
  /** Stored objects fetched and read. */
  objects: number;
  bytes: number;
  /** Objects that could not be read (not Parquet, corrupt, too large), with why; at most 10 listed. */
  skipped: { key: string; reason: string }[];
  /** Of `objects`, metrics rollups read instead of an hour's rows (metrics answers only). */
  rollups?: number;
  /** Of `rollups`, hour rollups (the others are per minute); read for intervals of whole hours. */
  hour_rollups?: number;
}

/** Fields of every answer. */
export interface QueryAnswer {
  window: AppliedWindow;
  /** True when a per-request bound stopped the scan; `truncated_reason` says which. */
  truncated: boolean;
  truncated_reason?: string;
  scanned: ScanReport;
}

/** A newest-first page; `next` is the cursor of the following page, null on the last. */
export interface PageAnswer extends QueryAnswer {
  limit: number;
  offset: number;
  next: string | null;
}

type Stored<R> = Omit<R, "ts"> & { ts: string };

export type LogEntry = Stored<LogRecord>;

export interface LogsAnswer extends PageAnswer {
  logs: LogEntry[];
}

/** A trace in a list: its root span (the one without a parent). */
export type TraceSummary = Omit<Stored<SpanRecord>, "parent_span_id" | "attributes">;

export interface TracesAnswer extends PageAnswer {
  traces: TraceSummary[];
}

/** A span in a trace's tree: depth-first order, children after their parent, siblings by start time. */
export type TraceSpan = Stored<SpanRecord> & {
  /** 0 for a root; a span whose parent is not stored is shown as a root with `orphan: true`. */
  depth: number;
  orphan: boolean;
};

export interface TraceAnswer extends QueryAnswer {
  trace_id: string;
  spans: TraceSpan[];
}

/** One time bucket of a series. `last` (the latest value) is given for gauges only. */
export interface MetricPoint {
  ts: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  avg: number;
  last?: number;
}

export interface MetricSeries {
  name: string;
  type: MetricRecord["type"];
  /** The group_by key and this series' value of it (null where a record lacks the label). */
  group: Record<string, string | null>;
  points: MetricPoint[];
}

export interface MetricsAnswer extends QueryAnswer {
  interval: string;
  group_by: string | null;
  limit: number;
  series: MetricSeries[];
}
