import type { MixerEnv } from "../env.ts";
import type { IngestCounters } from "../ingest/ingest-pump.ts";
import type { IngestBridgeView } from "./bridge-status.ts";
import { ingestBridge } from "./bridge-stub.ts";
import { PartHealth } from "./part-health.ts";

/**
 * Starts (or keeps running) ingest bridges 1 to `count` - 1 and gathers their views. One that does not answer
 * is reported as not connected with its error, so /health still answers and says which.
 *
 * @example const others = await otherBridges(env, config.ingest.bridges); // [] with the default of 1
 */
export async function otherBridges(env: MixerEnv, count: number): Promise<IngestBridgeView[]> {
  const indexes = Array.from({ length: Math.max(0, count - 1) }, (_, i) => i + 1);
  return Promise.all(
    indexes.map((index) =>
      ingestBridge(env, index)
        .runIngest(index)
        .catch((error: unknown) => unreachable(index, error)),
    ),
  );
}

function unreachable(index: number, error: unknown): IngestBridgeView {
  const message = `ingest bridge ${index} did not answer: ${(error as Error)?.message ?? error}`;
  const none = totalCounters([]);
  return {
    index,
    connected: false,
    lastError: message,
    telemetry: none,
    journal: none,
    store: new PartHealth().view(),
  };
}

/** One consumer's counters summed over the bridges: counts and times add up, the last flush is the latest. */
export function totalCounters(all: IngestCounters[]): IngestCounters {
  const sum = (pick: (c: IngestCounters) => number) => all.reduce((total, c) => total + pick(c), 0);
  const flushes = all.map((c) => c.lastFlushAt).filter((at): at is string => at !== null);
  return {
    lastFlushAt: flushes.sort().at(-1) ?? null,
    pendingRecords: sum((c) => c.pendingRecords),
    pendingMessages: sum((c) => c.pendingMessages),
    recordsStored: sum((c) => c.recordsStored),
    objectsWritten: sum((c) => c.objectsWritten),
    bytesWritten: sum((c) => c.bytesWritten),
    flushes: sum((c) => c.flushes),
    timing: {
      decodeMs: sum((c) => c.timing.decodeMs),
      encodeMs: sum((c) => c.timing.encodeMs),
      putMs: sum((c) => c.timing.putMs),
      ackMs: sum((c) => c.timing.ackMs),
    },
    messagesDeadLettered: sum((c) => c.messagesDeadLettered),
    recordsDeadLettered: sum((c) => c.recordsDeadLettered),
  };
}
