import { uuidv7 } from "uuidv7";
import type { BatchKind } from "../../../shared/telemetry/batch.ts";
import { batchFrameSize, encodeBatch } from "./batch-frame.ts";

/** A batch ready to publish (or spool): CBOR bytes, their subject and the message id JetStream dedupes on. */
export interface SealedBatch {
  /** UUID v7: unique, and sorts by the time the batch was sealed (the spool drains in that order). */
  msgID: string;
  subject: string;
  data: Uint8Array;
  records: number;
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

  /** Encodes the batch under a new message id and empties it. */
  seal(subject: string): SealedBatch {
    const batch = {
      msgID: uuidv7(),
      subject,
      data: encodeBatch(this.kind, this.#records),
      records: this.#records.length,
    };
    this.#records = [];
    this.#bytes = 0;
    return batch;
  }
}
