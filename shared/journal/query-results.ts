import type { LogEntry, PageAnswer, QueryAnswer, TraceSpan } from "../telemetry/query-results.ts";
import type { JournalRecord } from "./record.ts";

/** The message query API's answers, as the mixer sends them and the CLI reads them. */

/**
 * A stored message: its columns, `ts` as RFC 3339, `promoted` as an object (null when the record had none),
 * `spec` from the folder it is stored in (null for `messages/generic/`), and `raw_msg` as base64 only when
 * the request said `include_raw=true` (null when the record kept none).
 */
export type MessageEntry = Omit<JournalRecord, "ts" | "raw_msg"> & {
  ts: string;
  raw_msg?: string | null;
};

export interface MessagesAnswer extends PageAnswer {
  messages: MessageEntry[];
}

/** A message as a hop of its flux: its place in hop order and its time after the first hop. */
export type FluxHop = MessageEntry & { hop: number; offset_ms: number };

/**
 * One business signal end to end: its messages in hop order (time, then record id), the spans of its
 * traces (the messages' trace ids, or spans carrying the flux id) as trees, and its logs oldest first.
 */
export interface FluxAnswer extends QueryAnswer {
  flux_id: string;
  /** The hops, oldest first. */
  messages: FluxHop[];
  /** Trace ids of the messages and of the spans found, in order of first appearance. */
  trace_ids: string[];
  /** Every trace's spans depth-first (see TraceSpan), traces in order of their first span. */
  spans: TraceSpan[];
  /** Logs carrying the flux id, oldest first. */
  logs: LogEntry[];
}
