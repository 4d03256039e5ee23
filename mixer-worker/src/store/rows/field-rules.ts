import { JOURNAL_DIRECTIONS, JOURNAL_KIND, JOURNAL_STATUSES } from "../../../../shared/journal/record.ts";
import type { BatchKind } from "../../../../shared/telemetry/batch.ts";
import { LOG_RECORD_LEVELS, METRIC_TYPES, SPAN_STATUSES } from "../../../../shared/telemetry/records.ts";

/**
 * What ingest's fast path (transcode-cbor.ts) accepts for one field of a record, stated per kind beside the
 * zod schemas it mirrors (shared/telemetry/records.ts, shared/journal/record.ts). Each rule is *narrower* than
 * its schema: a value it does not take is not refused, the whole record goes through the schema instead.
 * So a rule may stay strict (lowercase UUIDs only, byte lengths standing in for UTF-16 lengths) and must
 * never be looser; transcode-cbor.test.ts checks both against each other on awkward and mutated records.
 */
export type FieldRule =
  /** A UUID in lowercase canonical form with a version 1-8 and variant 8-b nibble; `optional`: null when absent. */
  | { type: "uuid"; optional: boolean }
  /** Epoch milliseconds: a whole number in [0, MAX_EPOCH_MS]. */
  | { type: "epoch" }
  /** 1 to 253 bytes of letters, digits, `.`, `_` and `-`. */
  | { type: "entity_name" }
  | { type: "enum"; values: readonly string[] }
  /** UTF-8 text of `min` to `max` bytes (zod counts UTF-16 units: never more than the bytes). */
  | { type: "text"; min: number; max: number }
  /** Exactly `length` lowercase hex digits; `optional`: null when absent. */
  | { type: "hex"; length: number; optional: boolean }
  /** A gear or spec name (`NAME_PATTERN`) of at most `max` bytes; null when absent. */
  | { type: "name"; max: number }
  /** A finite number in [min, max]. */
  | { type: "number"; min: number; max: number }
  /** A map with text keys, written as JSON; `text`: every value is text. `absent`: what a missing field is. */
  | { type: "object"; values: "any" | "text"; absent: "empty" | "null" }
  /** A byte string (a BLOB column); null when absent. */
  | { type: "bytes" };

export interface FieldSpec {
  name: string;
  rule: FieldRule;
}

const uuid: FieldRule = { type: "uuid", optional: false };
const ANY_NUMBER = { type: "number", min: -Number.MAX_VALUE, max: Number.MAX_VALUE } as const;
const attributes: FieldRule = { type: "object", values: "any", absent: "empty" };

const common: FieldSpec[] = [
  { name: "record_id", rule: uuid },
  { name: "ts", rule: { type: "epoch" } },
  { name: "entity_id", rule: uuid },
  { name: "entity_name", rule: { type: "entity_name" } },
  { name: "flux_id", rule: { type: "uuid", optional: true } },
];

/** The fields of each batch kind's records, as the fast path checks them. */
export const FIELD_RULES: Readonly<Record<BatchKind, readonly FieldSpec[]>> = {
  logs: [
    ...common,
    { name: "level", rule: { type: "enum", values: LOG_RECORD_LEVELS } },
    { name: "message", rule: { type: "text", min: 0, max: Number.POSITIVE_INFINITY } },
    { name: "attributes", rule: attributes },
  ],
  metrics: [
    ...common,
    { name: "name", rule: { type: "text", min: 1, max: 255 } },
    { name: "type", rule: { type: "enum", values: METRIC_TYPES } },
    { name: "value", rule: ANY_NUMBER },
    { name: "labels", rule: { type: "object", values: "text", absent: "empty" } },
  ],
  traces: [
    ...common,
    { name: "trace_id", rule: { type: "hex", length: 32, optional: false } },
    { name: "span_id", rule: { type: "hex", length: 16, optional: false } },
    { name: "parent_span_id", rule: { type: "hex", length: 16, optional: true } },
    { name: "span_name", rule: { type: "text", min: 1, max: Number.POSITIVE_INFINITY } },
    { name: "duration_ms", rule: { type: "number", min: 0, max: 3.4e38 } },
    { name: "status", rule: { type: "enum", values: SPAN_STATUSES } },
    { name: "attributes", rule: attributes },
  ],
  [JOURNAL_KIND]: [
    { name: "record_id", rule: uuid },
    { name: "ts", rule: { type: "epoch" } },
    { name: "trace_id", rule: { type: "hex", length: 32, optional: false } },
    { name: "flux_id", rule: uuid },
    { name: "entity_id", rule: uuid },
    { name: "entity_name", rule: { type: "entity_name" } },
    { name: "src_gear_id", rule: { type: "name", max: 255 } },
    { name: "dst_gear_id", rule: { type: "name", max: 255 } },
    { name: "msg_type", rule: { type: "text", min: 1, max: 255 } },
    { name: "direction", rule: { type: "enum", values: JOURNAL_DIRECTIONS } },
    { name: "status", rule: { type: "enum", values: JOURNAL_STATUSES } },
    { name: "raw_msg", rule: { type: "bytes" } },
    { name: "promoted", rule: { type: "object", values: "any", absent: "null" } },
    { name: "spec", rule: { type: "name", max: 64 } },
  ],
};
