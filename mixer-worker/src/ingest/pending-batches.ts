import type { JsMsg } from "@nats-io/jetstream";
import type { BatchKind } from "../../../shared/telemetry/batch.ts";
import type { StoredRow } from "../store/index.ts";

/** One accepted message and the rows of the records it carried; it is acked once they are all in R2. */
export interface PendingBatch {
  message: JsMsg;
  kind: BatchKind;
  rows: StoredRow[];
}

/** What the bridge holds between flushes, with the counts that decide when to flush. */
export class PendingBatches {
  private batches: PendingBatch[] = [];
  private records = 0;

  add(batch: PendingBatch): void {
    this.batches.push(batch);
    this.records += batch.rows.length;
  }

  get messageCount(): number {
    return this.batches.length;
  }

  get recordCount(): number {
    return this.records;
  }

  /** Hands over everything held and starts empty. */
  take(): PendingBatch[] {
    const taken = this.batches;
    this.batches = [];
    this.records = 0;
    return taken;
  }
}
