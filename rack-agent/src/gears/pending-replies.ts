import { clearTimeout, setTimeout } from "node:timers";

/**
 * Requests waiting for their reply, by flux_id, each with a deadline: what `http-in` and `tcp-in` hold
 * between a request going out on `out` and its answer arriving on `reply`.
 *
 * @example
 * pending.add(msg.id, socket, 30_000, () => log.warn("no reply"));
 * pending.take(reply.id)?.write(frame);
 */
export class PendingReplies<T> {
  readonly #waiting = new Map<string, { value: T; timer: ReturnType<typeof setTimeout> }>();

  /** Holds `value` until taken, or calls `expired` with it after `timeoutMs`. */
  add(id: string, value: T, timeoutMs: number, expired: (value: T) => void): void {
    const timer = setTimeout(() => {
      this.#waiting.delete(id);
      expired(value);
    }, timeoutMs);
    timer.unref();
    this.#waiting.set(id, { value, timer });
  }

  /** The value waiting for this id, removed; undefined when none (never sent, answered, or expired). */
  take(id: string): T | undefined {
    const entry = this.#waiting.get(id);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.#waiting.delete(id);
    return entry.value;
  }

  /** Takes every waiting value (at stop). */
  takeAll(): T[] {
    const values = [...this.#waiting.keys()].map((id) => this.take(id) as T);
    return values;
  }

  get size(): number {
    return this.#waiting.size;
  }
}
