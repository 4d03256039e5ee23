/**
 * `logging.throttling`: at most `rate` lines a second per gear, with bursts of `burst` (a token bucket),
 * so a gear logging every message cannot flood the rack's output or its telemetry. Lines held back are
 * counted and said in the next line that passes.
 *
 * @example const throttle = new LogThrottle(500, 50); if (throttle.take()) write(line);
 */
export class LogThrottle {
  #tokens: number;
  #last = performance.now();
  #suppressed = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.#tokens = burst;
  }

  /** Whether a line may go now; when true, `suppressed` says how many were held back before it. */
  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    if (this.#tokens < 1) {
      this.#suppressed++;
      return false;
    }
    this.#tokens--;
    return true;
  }

  /** Lines held back since the last call (reset by reading). */
  drainSuppressed(): number {
    const count = this.#suppressed;
    this.#suppressed = 0;
    return count;
  }
}
