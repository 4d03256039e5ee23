/**
 * At most `running` queries read objects at once in this isolate, and at most `waiting` more wait, each for at
 * most `waitMs`; the rest are refused at once. Every running query holds a fetched batch in JS and its rows, so
 * this is what keeps the isolate's memory bounded under any number of concurrent requests (32 concurrent 24 h
 * scans without it took local workerd to 4.2 GB).
 *
 * @example
 * const release = await slots.acquire();
 * if (!release) return busy();
 * try { await scan(); } finally { release(); }
 */
export class ScanSlots {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    readonly running: number,
    readonly waiting: number,
    readonly waitMs: number,
  ) {}

  /** A function that frees the slot (call it once), or undefined when the isolate is busy. */
  async acquire(): Promise<(() => void) | undefined> {
    if (this.active < this.running) return this.take();
    if (this.queue.length >= this.waiting) return undefined;
    const turn = await new Promise<boolean>((resolve) => {
      const wake: () => void = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const at = this.queue.indexOf(wake);
        if (at >= 0) this.queue.splice(at, 1);
        resolve(false);
      }, this.waitMs);
      this.queue.push(wake);
    });
    // The freed slot was handed straight to this waiter (active was not decremented).
    return turn ? this.handle() : undefined;
  }

  private take(): () => void {
    this.active++;
    return this.handle();
  }

  /** Frees the slot once: to the first waiter, else back to the pool. */
  private handle(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    };
  }
}
