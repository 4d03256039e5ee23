import { CounterDeltas, counterSeries } from "../../../shared/telemetry/counter-deltas.ts";
import type { ControlStats } from "../control/control-plane.ts";
import type { SelfTelemetry } from "./self-telemetry.ts";

/** The bridge's counters a sample reads. */
export interface BridgeCounters {
  recordsStored: number;
  flushes: number;
  objectsWritten: number;
  bytesWritten: number;
  messagesDeadLettered: number;
  recordsDeadLettered: number;
  timing: { decodeMs: number; encodeMs: number; putMs: number; ackMs: number };
  control: ControlStats | null;
  /** The ingest bridge's index (`ingest.bridges`): bridges past 0 label their ingest metrics with it. */
  bridge: number;
}

/**
 * Turns the bridge's running counters into the mixer's own metrics at each self flush: ingest records/s
 * and mean flush time over the interval since the last sample, and, as counters, what was stored and written
 * and per control lane (enrollments, heartbeats) what was received, processed, failed and shed since the last
 * sample (the bridge keeps running totals; a control plane's start again at a new connection).
 *
 * @example sampler.sample(self, counters)
 */
export class BridgeMetricsSampler {
  private last: { at: number; recordsStored: number; flushes: number; flushMs: number } | undefined;
  /** What each running total had reached at the last sample: counters are sent as deltas. */
  private readonly reported = new CounterDeltas();

  sample(self: SelfTelemetry, counters: BridgeCounters, now = Date.now()): void {
    const { timing } = counters;
    const flushMs = timing.encodeMs + timing.putMs + timing.ackMs;
    // Each bridge its own series, so a gauge is one bridge's and counters add up across them.
    const labels = counters.bridge > 0 ? { bridge: String(counters.bridge) } : undefined;
    if (this.last && now > this.last.at) {
      const seconds = (now - this.last.at) / 1_000;
      self.metric(
        "fluxrig.mixer.ingest.records_per_second",
        "gauge",
        (counters.recordsStored - this.last.recordsStored) / seconds,
        labels,
      );
      const flushes = counters.flushes - this.last.flushes;
      if (flushes > 0)
        self.metric(
          "fluxrig.mixer.ingest.flush_ms",
          "gauge",
          (flushMs - this.last.flushMs) / flushes,
          labels,
        );
    }
    this.last = { at: now, recordsStored: counters.recordsStored, flushes: counters.flushes, flushMs };
    for (const [name, value] of [
      ["records_stored", counters.recordsStored],
      ["flushes", counters.flushes],
      ["objects_written", counters.objectsWritten],
      ["bytes_written", counters.bytesWritten],
      ["messages_dead_lettered", counters.messagesDeadLettered],
      ["records_dead_lettered", counters.recordsDeadLettered],
    ] as const) {
      self.metric(`fluxrig.mixer.ingest.${name}`, "counter", this.reported.increase(name, value), labels);
    }
    for (const [lane, stats] of Object.entries(counters.control ?? {})) {
      const shed = stats.shed.queue_full + stats.shed.rate_limited + stats.shed.oversize;
      for (const [name, value] of [
        ["received", stats.received],
        ["processed", stats.processed],
        ["failed", stats.failed],
        ["shed", shed],
      ] as const) {
        const series = counterSeries(name, { lane });
        self.metric(`fluxrig.mixer.control.${name}`, "counter", this.reported.increase(series, value), {
          lane,
        });
      }
    }
  }
}
