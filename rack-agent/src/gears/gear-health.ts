/** Outcomes are kept in buckets of this many ms, this many buckets: "recent" means the last minute. */
const BUCKET_MS = 10_000;
const BUCKETS = 6;
/** A gear is failing when at least this share of at least this many recent messages failed. */
const FAILING_RATIO = 0.5;
const MIN_MESSAGES = 10;

/**
 * Whether a gear's recent messages mostly fail: the `failing` state heartbeats report. A gear that throws
 * now and then is running; one whose error ratio over the last minute stays at or above one half is
 * failing, and becomes running again as successes push the ratio down or the failures age out.
 *
 * @example health.record(false); if (health.failing()) report("failing");
 */
export class GearHealth {
  readonly #ok = new Array<number>(BUCKETS).fill(0);
  readonly #failed = new Array<number>(BUCKETS).fill(0);
  #bucket = 0;
  #bucketStart = 0;

  constructor(private readonly now: () => number = Date.now) {
    this.#bucketStart = now();
  }

  record(ok: boolean): void {
    this.#advance();
    const counts = ok ? this.#ok : this.#failed;
    counts[this.#bucket] = (counts[this.#bucket] as number) + 1;
  }

  failing(): boolean {
    this.#advance();
    const failed = this.#failed.reduce((a, b) => a + b, 0);
    const total = failed + this.#ok.reduce((a, b) => a + b, 0);
    return total >= MIN_MESSAGES && failed / total >= FAILING_RATIO;
  }

  #advance(): void {
    const now = this.now();
    const steps = Math.min(BUCKETS, Math.floor((now - this.#bucketStart) / BUCKET_MS));
    for (let i = 0; i < steps; i++) {
      this.#bucket = (this.#bucket + 1) % BUCKETS;
      this.#ok[this.#bucket] = 0;
      this.#failed[this.#bucket] = 0;
    }
    if (steps > 0) this.#bucketStart = now - ((now - this.#bucketStart) % BUCKET_MS);
  }
}
