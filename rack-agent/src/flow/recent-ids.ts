/**
 * The ids seen lately: how lanes recognise, within one process, a message they already stored or already
 * handed to its gear (JetStream's own duplicate detection sees frames, not the messages in them).
 *
 * Two generations of a Set: ids go into the current one; when it holds `capacity / 2` ids or is older than
 * `maxAgeMs / 2` (looked at every 64 ids added), it becomes the previous one and the one before is dropped.
 * So an id is remembered until `capacity / 2` more were added or `maxAgeMs / 2` passed (on a quiet lane,
 * longer), whichever comes first; at most `capacity` ids are held, and each call is a Set operation or two
 * (this runs per lane message, on both sides).
 *
 * @example
 * const done = new RecentIds(65_536, 120_000);
 * if (done.has(id)) return; // handled a moment ago
 * await handle(msg);
 * done.add(id);
 */
export class RecentIds {
  #current = new Set<string>();
  #previous = new Set<string>();
  #since: number;
  #adds = 0;

  constructor(
    readonly capacity: number,
    readonly maxAgeMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.#since = clock();
  }

  has(id: string): boolean {
    return this.#current.has(id) || this.#previous.has(id);
  }

  add(id: string): void {
    this.#current.add(id);
    // The clock is read every 64 adds only: this runs per message, a clock read costs more than the Set.
    if (
      this.#current.size >= this.capacity / 2 ||
      ((++this.#adds & 63) === 0 && this.clock() - this.#since >= this.maxAgeMs / 2)
    ) {
      this.#previous = this.#current;
      this.#current = new Set();
      this.#since = this.clock();
    }
  }
}
