import * as z from "zod";
import { JOURNAL_KIND } from "../journal/record.ts";
import { TELEMETRY_KINDS } from "./records.ts";

/**
 * One NATS message on a telemetry or journal subject: a CBOR map holding many records of one kind. Records
 * are validated one by one on ingest, so one bad record does not spoil its neighbours.
 */
export const TELEMETRY_BATCH_VERSION = 1;

/** What a batch may carry: a telemetry signal, or journal records (`messages`, bound for `messages/`). */
export const BATCH_KINDS = [...TELEMETRY_KINDS, JOURNAL_KIND] as const;
export type BatchKind = (typeof BATCH_KINDS)[number];

export const telemetryBatchSchema = z.object({
  v: z.literal(TELEMETRY_BATCH_VERSION),
  kind: z.enum(BATCH_KINDS),
  records: z.array(z.unknown()).min(1),
});

export type TelemetryBatch = z.infer<typeof telemetryBatchSchema>;
