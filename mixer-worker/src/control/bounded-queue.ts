/**
 * A first-in, first-out queue of at most `capacity` items: `push` refuses an item instead of growing, so a
 * producer faster than its consumer costs a fixed amount of memory. A ring over one array made up front.
 *
 * @example
 * const queue = new BoundedQueue<string>(2);
 * queue.push("a"); queue.push("b"); queue.push("c"); // true, true, false
 * queue.shift(); // "a"
 */
export class BoundedQueue<T> {
  readonly #slots: (T | undefined)[];
  #head = 0;
  #length = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`a bounded queue's capacity must be a positive integer, not ${capacity}`);
    }
    this.#slots = new Array<T | undefined>(capacity).fill(undefined);
  }

  get length(): number {
    return this.#length;
  }

  /** Appends `item`, or returns false and leaves the queue as it was when it is full. */
  push(item: T): boolean {
    if (this.#length === this.capacity) return false;
    this.#slots[(this.#head + this.#length) % this.capacity] = item;
    this.#length++;
    return true;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#slots[this.#head];
    // Let the item be collected now, not when its slot comes round again.
    this.#slots[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#length--;
    return item;
  }
}
