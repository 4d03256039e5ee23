import { type CounterDeltas, counterSeries } from "../../../shared/telemetry/counter-deltas.ts";
import type { Telemetry } from "../telemetry/index.ts";

/** Counters of what a lane did (messages unless said otherwise), so batching, redeliveries and duplicates are visible. */
export interface LaneStats {
  /** Messages JetStream stored on the lane (in frames; duplicates included). */
  published: number;
  /** JetStream messages stored: frames of one or more messages. */
  frames: number;
  /** Messages not stored again: this rack stored them a moment ago, or JetStream recognised their frame. */
  duplicates: number;
  /** Frame publishes that failed and were tried again (bus down, no answer). */
  publishRetries: number;
  /** Messages unpacked from delivered frames. */
  delivered: number;
  /** Messages handed to their gear again (their gear failed, or their frame's ack never arrived). */
  redelivered: number;
  /** Messages delivered again that this process had already finished: skipped, not handed to the gear. */
  skipped: number;
  /** Messages their gear finished with (the frame is acked once all of its messages are finished). */
  acked: number;
  /** Failed deliveries of a message handed back for a later try (with the rest of its frame). */
  naked: number;
  /** Messages that failed `maxDeliveries` times or were not fluxMsgs, now on `flux.dlq.msg.<rack>`. */
  deadLettered: number;
}

export function emptyLaneStats(): LaneStats {
  return {
    published: 0,
    frames: 0,
    duplicates: 0,
    publishRetries: 0,
    delivered: 0,
    redelivered: 0,
    skipped: 0,
    acked: 0,
    naked: 0,
    deadLettered: 0,
  };
}

/** The sum of several lanes' counters. */
export function sumLaneStats(all: Iterable<LaneStats>): LaneStats {
  const sum = emptyLaneStats();
  for (const stats of all) {
    for (const key of Object.keys(sum) as (keyof LaneStats)[]) sum[key] += stats[key];
  }
  return sum;
}

/** `fluxrig.lane.<counter>` names, in snake case as the gears' metrics are. */
const METRIC_NAMES: Record<keyof LaneStats, string> = {
  published: "fluxrig.lane.published",
  frames: "fluxrig.lane.frames",
  duplicates: "fluxrig.lane.duplicates",
  publishRetries: "fluxrig.lane.publish_retries",
  delivered: "fluxrig.lane.delivered",
  redelivered: "fluxrig.lane.redelivered",
  skipped: "fluxrig.lane.skipped",
  acked: "fluxrig.lane.acked",
  naked: "fluxrig.lane.failed",
  deadLettered: "fluxrig.lane.dead_lettered",
};

/**
 * Sends each lane's counters as `fluxrig.lane.*` counters labelled `lane` (its subject), each what it counted
 * since the last report (the stats are running totals; counter-deltas.ts); counters still at 0 are left out, so a rack that only publishes on a lane does not report consuming it.
 *
 * @example reportLaneStats(telemetry, new Map([["flux.msg.core.sink.in", stats]]), this.#reported);
 */
export function reportLaneStats(
  telemetry: Telemetry,
  lanes: ReadonlyMap<string, LaneStats>,
  reported: CounterDeltas,
): void {
  for (const [lane, stats] of lanes) {
    for (const key of Object.keys(METRIC_NAMES) as (keyof LaneStats)[]) {
      if (stats[key] > 0)
        void telemetry.counter(
          METRIC_NAMES[key],
          reported.increase(counterSeries(key, { lane }), stats[key]),
          { lane },
        );
    }
  }
}
