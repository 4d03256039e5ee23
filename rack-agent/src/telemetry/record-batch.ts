import { uuidv7 } from "../../../shared/random/uuidv7.ts";
import type { BatchKind } from "../../../shared/telemetry/batch.ts";
import { batchFrameSize, encodeBatch } from "./batch-frame.ts";

/** A batch ready to publish (or spool): CBOR bytes, their subject and the message id JetStream dedupes on. */
export interface SealedBatch {
  /** UUID v7: unique, and sorts by the time the batch was sealed (the spool drains in that order). */
  msgID: string;
  subject: string;
  data: Uint8Array;
  records: number;
  /**
   * Called once the batch is durable (acknowledged by JetStream, or fsynced to the spool) with no argument, or
   * with why it never will be (dropped). Only batches holding a record someone waits on have it.
   */
  settle?: ((notDurable?: Error) => void) | undefined;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Records of one kind, already CBOR-encoded, waiting to become one message.
 *
 * @example
 * const batch = new RecordBatch("logs");
 * if (!batch.fits(record.length, limit)) publish(batch.seal(subject));
 * batch.add(record);
 */
export class RecordBatch {
  #records: Uint8Array[] = [];
  #bytes = 0;
  #waiters: Waiter[] = [];

  constructor(readonly kind: BatchKind) {}

  get count(): number {
    return this.#records.length;
  }

  /** Whether one more record of `size` bytes keeps the whole encoded batch within `limit` bytes. */
  fits(size: number, limit: number): boolean {
    return batchFrameSize(this.kind, this.#records.length + 1) + this.#bytes + size <= limit;
  }

  add(record: Uint8Array): void {
    this.#records.push(record);
    this.#bytes += record.length;
  }

  /** Whether a record added since the last seal is waited on ({@link durable}). */
  get awaited(): boolean {
    return this.#waiters.length > 0;
  }

  /** Resolves once the batch now being filled is durable, rejects if it is dropped (see `SealedBatch.settle`). */
  durable(): Promise<void> {
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Encodes the batch under a new message id and empties it. */
  seal(subject: string): SealedBatch {
    const waiters = this.#waiters;
    const batch: SealedBatch = {
      msgID: uuidv7(),
      subject,
      data: encodeBatch(this.kind, this.#records),
      records: this.#records.length,
    };
    if (waiters.length > 0) {
      batch.settle = (notDurable) => {
        batch.settle = undefined;
        for (const waiter of waiters) notDurable ? waiter.reject(notDurable) : waiter.resolve();
      };
    }
    this.#records = [];
    this.#bytes = 0;
    this.#waiters = [];
    return batch;
  }
}
