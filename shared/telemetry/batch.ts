import * as z from "zod";
import { JOURNAL_KIND } from "../journal/record.ts";
import { entityNameSchema } from "./entity-name.ts";
import { TELEMETRY_KINDS } from "./records.ts";

/**
 * One NATS message on a telemetry or journal subject: a CBOR map holding many records of one kind. Records
 * are validated one by one on ingest, so one bad record does not spoil its neighbours.
 */
export const TELEMETRY_BATCH_VERSION = 1;

/** What a batch may carry: a telemetry signal, or journal records (`messages`, bound for `messages/`). */
export const BATCH_KINDS = [...TELEMETRY_KINDS, JOURNAL_KIND] as const;
export type BatchKind = (typeof BATCH_KINDS)[number];

/**
 * The entity every record of a batch speaks for, sent once per batch (as OTLP sends a resource once): a
 * record that has neither `entity_id` nor `entity_name` takes these. A rack's records are all its own, so
 * sending them in each record cost 76 of a journal record's 462 bytes and a third of a log's.
 */
export const batchEntitySchema = z.object({ id: z.uuid(), name: entityNameSchema });
export type BatchEntity = z.infer<typeof batchEntitySchema>;

export const telemetryBatchSchema = z.object({
  v: z.literal(TELEMETRY_BATCH_VERSION),
  kind: z.enum(BATCH_KINDS),
  entity: batchEntitySchema.optional(),
  records: z.array(z.unknown()).min(1),
});

export type TelemetryBatch = z.infer<typeof telemetryBatchSchema>;

/**
 * A record as its batch means it: one with neither `entity_id` nor `entity_name` takes the batch's entity.
 *
 * @example recordWithEntity({ ts: 1 }, { id, name: "rack-a" }) // { entity_id: id, entity_name: "rack-a", ts: 1 }
 */
export function recordWithEntity(record: unknown, entity: BatchEntity | undefined): unknown {
  if (!entity || typeof record !== "object" || record === null || Array.isArray(record)) return record;
  if ("entity_id" in record || "entity_name" in record) return record;
  return { entity_id: entity.id, entity_name: entity.name, ...record };
}

/** A batch's records, each as {@link recordWithEntity} makes it. */
export function batchRecords(batch: TelemetryBatch): unknown[] {
  return batch.entity ? batch.records.map((record) => recordWithEntity(record, batch.entity)) : batch.records;
}
