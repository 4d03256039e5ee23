import * as z from "zod";
import { entityNameSchema } from "./entity-name.ts";

/**
 * Telemetry records as the rack emits them and the mixer stores them: one definition for the writer, the
 * reader and the wire. Columns follow the reference's Parquet schemas; `record_id` is ours: ingest is
 * at-least-once, and duplicates are removed by it.
 */

const uuid = z.uuid();
const hex = (length: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`), `expected ${length} hex digits`);
/** Epoch milliseconds, UTC, within what a TIMESTAMP column and a `YYYY/` partition folder can hold. */
export const MAX_EPOCH_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
const epochMs = z.number().int().nonnegative().max(MAX_EPOCH_MS);
const attributes = z.record(z.string(), z.unknown());

const common = {
  record_id: uuid,
  ts: epochMs,
  entity_id: uuid,
  entity_name: entityNameSchema,
  flux_id: uuid.nullable().default(null),
};

export const LOG_RECORD_LEVELS = ["debug", "info", "warn", "error"] as const;

export const logRecordSchema = z.object({
  ...common,
  level: z.enum(LOG_RECORD_LEVELS),
  message: z.string(),
  attributes: attributes.default({}),
});

export const METRIC_TYPES = ["counter", "gauge", "histogram"] as const;

export const metricRecordSchema = z.object({
  ...common,
  name: z.string().min(1).max(255),
  type: z.enum(METRIC_TYPES),
  value: z.number(),
  labels: z.record(z.string(), z.string()).default({}),
});

export const SPAN_STATUSES = ["ok", "error"] as const;

export const spanRecordSchema = z.object({
  ...common,
  trace_id: hex(32),
  span_id: hex(16),
  parent_span_id: hex(16).nullable().default(null),
  span_name: z.string().min(1),
  // Stored as a 32-bit FLOAT, as the reference says: larger values could not be written.
  duration_ms: z.number().nonnegative().max(3.4e38),
  status: z.enum(SPAN_STATUSES),
  attributes: attributes.default({}),
});

export type LogRecord = z.infer<typeof logRecordSchema>;
export type MetricRecord = z.infer<typeof metricRecordSchema>;
export type SpanRecord = z.infer<typeof spanRecordSchema>;

/** The three signal kinds, named as the reference's storage folders. */
export const TELEMETRY_KINDS = ["logs", "metrics", "traces"] as const;
export type TelemetryKind = (typeof TELEMETRY_KINDS)[number];

export const recordSchemaByKind = {
  logs: logRecordSchema,
  metrics: metricRecordSchema,
  traces: spanRecordSchema,
} as const;

export type RecordOf<K extends TelemetryKind> = z.infer<(typeof recordSchemaByKind)[K]>;
export type TelemetryRecord = LogRecord | MetricRecord | SpanRecord;
