import { CounterDeltas } from "../../../shared/telemetry/counter-deltas.ts";
import type { Telemetry } from "../telemetry/index.ts";

/** Latency samples kept per report interval (reservoir sampling: every message has the same chance). */
const RESERVOIR = 1_024;

/**
 * A gear's counters and latency, kept in memory and reported every interval: one metric record per
 * message would cost more than the message (telemetry carries tens of thousands of records a second,
 * a hot lane hundreds of thousands of messages). Counters are kept as running totals and sent as what they
 * counted since the last report (counter-deltas.ts); latency is reported per interval as `fluxrig.gear.latency_ms` gauges labelled `quantile` 0.5, 0.99, 1.
 */
export class GearMetrics {
  messagesIn = 0;
  messagesOut = 0;
  /** Messages dead-lettered by this gear: thrown in `process`, refused in `deadLetter`, over a limit when emitted. */
  errors = 0;
  /** Messages that arrived while the gear was not running (hot lanes are at most once). */
  dropped = 0;
  /** What each counter had reached at the last report: its own, so a gear started again counts from 0. */
  readonly #reported = new CounterDeltas();
  readonly #samples: number[] = [];
  #seen = 0;

  constructor(private readonly labels: Record<string, string>) {}

  /** One `process` call's duration. */
  observe(ms: number): void {
    this.#seen++;
    if (this.#samples.length < RESERVOIR) this.#samples.push(ms);
    else {
      const slot = Math.floor(Math.random() * this.#seen);
      if (slot < RESERVOIR) this.#samples[slot] = ms;
    }
  }

  /** Latency quantiles of the interval so far, in ms (undefined without samples). */
  quantiles(): { p50: number; p99: number; max: number } | undefined {
    if (this.#samples.length === 0) return undefined;
    const sorted = [...this.#samples].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
    return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] as number };
  }

  /** Sends the counters and the interval's latency, then starts a new interval. */
  report(telemetry: Telemetry): void {
    const { labels } = this;
    void telemetry.counter(
      "fluxrig.gear.messages_in",
      this.#reported.increase("messages_in", this.messagesIn),
      labels,
    );
    void telemetry.counter(
      "fluxrig.gear.messages_out",
      this.#reported.increase("messages_out", this.messagesOut),
      labels,
    );
    void telemetry.counter("fluxrig.gear.errors", this.#reported.increase("errors", this.errors), labels);
    void telemetry.counter("fluxrig.gear.dropped", this.#reported.increase("dropped", this.dropped), labels);
    const latency = this.quantiles();
    if (latency) {
      for (const [quantile, value] of [
        ["0.5", latency.p50],
        ["0.99", latency.p99],
        ["1", latency.max],
      ] as const) {
        void telemetry.gauge("fluxrig.gear.latency_ms", value, { ...labels, quantile });
      }
    }
    this.#samples.length = 0;
    this.#seen = 0;
  }
}
