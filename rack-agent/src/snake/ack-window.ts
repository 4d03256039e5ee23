/**
 * Bounds the publishes awaiting a JetStream ack, by count and by bytes, so a slow or stalled bus holds at most
 * a known amount of memory. Waiters are served first come, first served.
 *
 * @example
 * const window = new AckWindow(256, 16 * 2 ** 20);
 * await window.acquire(data.length);
 * js.publish(subject, data).finally(() => window.release(data.length));
 */
export class AckWindow {
  #count = 0;
  #bytes = 0;
  #waiting: { bytes: number; resolve: () => void }[] = [];
  #waitingBytes = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {}

  /** Bytes of the publishes queued for a slot. */
  get waitingBytes(): number {
    return this.#waitingBytes;
  }

  /** Takes a slot now if one is free and nobody is queued ahead. */
  tryAcquire(bytes: number): boolean {
    if (this.#waiting.length > 0 || !this.#fits(bytes)) return false;
    this.#take(bytes);
    return true;
  }

  acquire(bytes: number): Promise<void> {
    if (this.tryAcquire(bytes)) return Promise.resolve();
    this.#waitingBytes += bytes;
    return new Promise((resolve) => this.#waiting.push({ bytes, resolve }));
  }

  release(bytes: number): void {
    this.#count -= 1;
    this.#bytes -= bytes;
    for (let next = this.#waiting[0]; next && this.#fits(next.bytes); next = this.#waiting[0]) {
      this.#waiting.shift();
      this.#waitingBytes -= next.bytes;
      this.#take(next.bytes);
      next.resolve();
    }
  }

  /** One oversized publish may go alone, or it would wait forever. */
  #fits(bytes: number): boolean {
    return this.#count < this.maxCount && (this.#count === 0 || this.#bytes + bytes <= this.maxBytes);
  }

  #take(bytes: number): void {
    this.#count += 1;
    this.#bytes += bytes;
  }
}
