import { z } from "zod";
import { TELEMETRY_KINDS } from "./records.ts";

/**
 * One NATS message on a telemetry subject: a CBOR map holding many records of one kind. Records are
 * validated one by one on ingest, so one bad record does not spoil its neighbours.
 */
export const TELEMETRY_BATCH_VERSION = 1;

export const telemetryBatchSchema = z.object({
  v: z.literal(TELEMETRY_BATCH_VERSION),
  kind: z.enum(TELEMETRY_KINDS),
  records: z.array(z.unknown()).min(1),
});

export type TelemetryBatch = z.infer<typeof telemetryBatchSchema>;
