import { clearTimeout, setTimeout } from "node:timers";

/** How long after the first line held back the throttle says how many it held back. */
const REPORT_AFTER_MS = 1_000;

/** `[logging.throttling]` as loaded. */
export interface ThrottleSettings {
  enabled: boolean;
  rate: number;
  burst: number;
}

/**
 * `logging.throttling`: at most `rate` lines a second per gear, with bursts of `burst` (a token bucket),
 * so a gear logging every message cannot flood the rack's output, its log file or its telemetry. Lines held
 * back are dropped and counted: a second after the first of them, `onDropped` gets the count (and again
 * every second while the gear keeps over its rate), so every dropped line is accounted for exactly once.
 *
 * @example
 * const throttle = new LogThrottle({ enabled: true, rate: 500, burst: 50 }, (n) => log.warn(`${n} line(s) dropped`));
 * if (throttle.take()) write(line);
 */
export class LogThrottle {
  #tokens: number;
  #last = performance.now();
  #dropped = 0;
  #report: ReturnType<typeof setTimeout> | undefined;

  /** `settings` is read at every line, so a config reloaded on SIGHUP applies to running gears. */
  constructor(
    private readonly settings: Readonly<ThrottleSettings>,
    private readonly onDropped: (count: number) => void,
  ) {
    this.#tokens = settings.burst;
  }

  /** Whether a line may go now; false means it is dropped (and counted for the next report). */
  take(): boolean {
    const { enabled, rate, burst } = this.settings;
    if (!enabled) return true;
    const now = performance.now();
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#last) / 1000) * rate);
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
