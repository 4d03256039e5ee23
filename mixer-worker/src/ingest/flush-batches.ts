import type { BatchKind } from "../../../shared/telemetry/batch.ts";
import type { StoredRow } from "../store/index.ts";
import { type StoreResult, TelemetryEncodeError } from "../store/index.ts";
import type { DeadLetter } from "./dead-letter.ts";
import type { PendingBatch } from "./pending-batches.ts";

export interface FlushDeps {
  store: (kind: BatchKind, rows: StoredRow[]) => Promise<StoreResult>;
  deadLetter: DeadLetter;
  onStored: (result: StoreResult, records: number) => void;
  onDeadLettered: (records: number) => void;
}

export interface FlushOutcome {
  acked: number;
  retried: number;
  deadLettered: number;
}

/** Redelivery delay after a failed store: 1 s, doubling per delivery, at most a minute. */
const backoffMs = (deliveries: number) => Math.min(60_000, 1_000 * 2 ** Math.max(0, deliveries - 1));

/**
 * Writes held batches to R2, one object set per kind, and acks each message only after its records are
 * stored. When a kind's write fails, its batches are written one by one, so one poisonous batch does not
 * hold back its neighbours: a batch whose records cannot be encoded (it fails alone, every time) is
 * dead-lettered; a batch whose write failed otherwise (R2 unavailable) is redelivered with backoff, forever.
 *
 * @example const outcome = await flushBatches(pending.take(), deps);
 */
export async function flushBatches(batches: PendingBatch[], deps: FlushDeps): Promise<FlushOutcome> {
  const outcome: FlushOutcome = { acked: 0, retried: 0, deadLettered: 0 };
  const byKind = new Map<BatchKind, PendingBatch[]>();
  for (const batch of batches) {
    const group = byKind.get(batch.kind);
    if (group) group.push(batch);
    else byKind.set(batch.kind, [batch]);
  }
  for (const [kind, group] of byKind) {
    const rows = group.flatMap((batch) => batch.rows);
    const stored = await deps.store(kind, rows).catch(() => undefined);
    if (stored) {
      deps.onStored(stored, rows.length);
      for (const batch of group) outcome.acked += ack(batch);
      continue;
    }
    for (const batch of group) {
      try {
        deps.onStored(await deps.store(kind, batch.rows), batch.rows.length);
        outcome.acked += ack(batch);
      } catch (error) {
        if (error instanceof TelemetryEncodeError && (await deadLetterBatch(batch, error, deps))) {
          outcome.acked += ack(batch);
          outcome.deadLettered++;
        } else {
          batch.message.nak(backoffMs(batch.message.info.deliveryCount));
          outcome.retried++;
        }
      }
    }
  }
  return outcome;
}

async function deadLetterBatch(batch: PendingBatch, error: Error, deps: FlushDeps): Promise<boolean> {
  try {
    await deps.deadLetter(batch.message.subject, error.message, batch.message.data);
    deps.onDeadLettered(batch.rows.length);
    return true;
  } catch {
    return false;
  }
}

/** Acks one message; a connection replaced since it arrived makes this throw, and only this one is redelivered. */
function ack(batch: PendingBatch): number {
  try {
    batch.message.ack();
    return 1;
  } catch {
    return 0;
  }
}
