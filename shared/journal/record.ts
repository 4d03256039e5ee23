import * as z from "zod";
import { NAME_PATTERN } from "../fluxmsg/message.ts";
import { entityNameSchema } from "../telemetry/entity-name.ts";
import { MAX_EPOCH_MS } from "../telemetry/records.ts";

/**
 * A journal record: one business message as it crossed a gear, as the rack emits it and the mixer stores it
 * under `messages/`. Columns follow the reference's "Parquet Schema (fluxMsg / Data)"; `record_id` is ours
 * (the dedupe key of at-least-once ingest, as for telemetry) and `spec` is not a column: it names the folder
 * (`messages/fluxSpec/<spec>/…`, or `messages/generic/…` when null).
 */

/** The batch kind and the storage root journal records travel and live under. */
export const JOURNAL_KIND = "messages" as const;

/** `inbound` at an ingress gear, `outbound` at an egress gear, `internal` between gears. */
export const JOURNAL_DIRECTIONS = ["inbound", "outbound", "internal"] as const;
export const JOURNAL_STATUSES = ["ok", "error"] as const;

const uuid = z.uuid();
/** A gear's name in its scenario, as fluxMsg's `src.gear`. */
const gearId = z.string().regex(NAME_PATTERN).max(255);

/** A fluxSpec id: one path segment and one subject token (`visa-v1`). */
export const specIdSchema = z
  .string()
  .max(64)
  .regex(NAME_PATTERN, "expected letters, digits, '_' or '-' (no dots or spaces)");

export const journalRecordSchema = z.object({
  record_id: uuid,
  /** Epoch ms, UTC: when the message crossed the gear. */
  ts: z.number().int().nonnegative().max(MAX_EPOCH_MS),
  trace_id: z.string().regex(/^[0-9a-f]{32}$/, "expected 32 hex digits"),
  flux_id: uuid,
  entity_id: uuid,
  entity_name: entityNameSchema,
  /** The gear that emitted it (null at ingress: it came from outside). */
  src_gear_id: gearId.nullable().default(null),
  /** The gear it went to (null at egress: it left the platform). */
  dst_gear_id: gearId.nullable().default(null),
  msg_type: z.string().min(1).max(255),
  direction: z.enum(JOURNAL_DIRECTIONS),
  status: z.enum(JOURNAL_STATUSES),
  /** The whole fluxMsg as CBOR, with every field its spec masks already masked; null when not kept. */
  raw_msg: z.instanceof(Uint8Array).nullable().default(null),
  /** The spec's `promote: true` fields, masked as the spec says. */
  promoted: z.record(z.string(), z.unknown()).nullable().default(null),
  spec: specIdSchema.nullable().default(null),
});

export type JournalRecord = z.infer<typeof journalRecordSchema>;
export type JournalDirection = (typeof JOURNAL_DIRECTIONS)[number];
export type JournalStatus = (typeof JOURNAL_STATUSES)[number];
