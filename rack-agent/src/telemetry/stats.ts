/** Why records were given up; each is counted in {@link TelemetryStats.dropped}. */
export const DROP_REASONS = [
  /** One record alone is bigger than a message may be (rack.max_payload_size or the server's max_payload). */
  "too_large",
  /** The spool was full: the oldest spooled batches made room, or the new batch was bigger than the spool. */
  "spool_full",
  /** Writing to the spool failed (disk full, permissions). */
  "spool_write_failed",
  /** A spooled file could not be read back. */
  "spool_unreadable",
  /** Callers that do not await emitted faster than the bus and the spool's disk could take. */
  "overloaded",
  /** The OTLP collector refused a batch with a status OTLP says not to retry (e.g. HTTP 400). */
  "rejected",
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** The telemetry pipeline's own counters, cumulative since the client was created. */
export interface TelemetryStats {
  /** Records in batches JetStream acknowledged (a duplicate ack counts: the batch is stored once). */
  recordsSent: number;
  batchesSent: number;
  /** Payload bytes of acknowledged batches. */
  bytesSent: number;
  /** Acks that JetStream marked `duplicate`: a retried batch it had already stored. */
  duplicates: number;
  /** Failed publishes (timeouts, no stream, connection lost); their batches went to the spool. */
  publishErrors: number;
  /** Records that went to the spool (bus down, publish failed, or the in-memory queue was full). */
  recordsSpooled: number;
  recordsDropped: number;
  dropped: Record<DropReason, number>;
  /** Batches and bytes in the spool now. */
  spool: { batches: number; bytes: number };
}

/**
 * Fresh, zeroed counters.
 *
 * @example
 * const stats = emptyStats(); stats.recordsSent += 10;
 */
export function emptyStats(): TelemetryStats {
  return {
    recordsSent: 0,
    batchesSent: 0,
    bytesSent: 0,
    duplicates: 0,
    publishErrors: 0,
    recordsSpooled: 0,
    recordsDropped: 0,
    dropped: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>,
    spool: { batches: 0, bytes: 0 },
  };
}

/** Reports records given up: counted in the stats and told to the operator. */
export type DropHandler = (records: number, reason: DropReason, detail: string) => void;
