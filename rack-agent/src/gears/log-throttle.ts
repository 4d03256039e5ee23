import { clearTimeout, setTimeout } from "node:timers";

/** How long after the first line held back the throttle says how many it held back. */
const REPORT_AFTER_MS = 1_000;

/**
 * `logging.throttling`: at most `rate` lines a second per gear, with bursts of `burst` (a token bucket),
 * so a gear logging every message cannot flood the rack's output, its log file or its telemetry. Lines held
 * back are dropped and counted: a second after the first of them, `onDropped` gets the count (and again
 * every second while the gear keeps over its rate), so every dropped line is accounted for exactly once.
 *
 * @example
 * const throttle = new LogThrottle(500, 50, (n) => log.warn(`${n} line(s) dropped`));
 * if (throttle.take()) write(line);
 */
export class LogThrottle {
  #tokens: number;
  #last = performance.now();
  #dropped = 0;
  #report: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly onDropped: (count: number) => void,
  ) {
    this.#tokens = burst;
  }

  /** Whether a line may go now; false means it is dropped (and counted for the next report). */
  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens--;
      return true;
    }
    this.#dropped++;
    if (this.#report === undefined) {
      this.#report = setTimeout(() => this.flush(), REPORT_AFTER_MS);
      this.#report.unref();
    }
    return false;
  }

  /** Reports the lines dropped since the last report now, if any (also when the gear stops). */
  flush(): void {
    clearTimeout(this.#report);
    this.#report = undefined;
    const count = this.#dropped;
    this.#dropped = 0;
    if (count > 0) this.onDropped(count);
  }
}
