import { clearTimeout, setTimeout } from "node:timers";
import { type JetStreamClient, PubHeaders } from "@nats-io/jetstream";
import { MsgHdrsImpl, type NatsConnection, type QueuedIterator, type Status } from "@nats-io/nats-core";
import { uuidv7 } from "../../../shared/random/uuidv7.ts";
import { AckWindow } from "../snake/ack-window.ts";
import type { SealedBatch } from "./record-batch.ts";
import type { Spool, SpoolEntry } from "./spool.ts";
import type { DropHandler, DropReason, TelemetryStats } from "./stats.ts";

/** Bytes the `Nats-Msg-Id` header adds to a message; NATS counts headers against `max_payload`. */
export const MSG_ID_HEADER_BYTES = (() => {
  const msgHeaders = new MsgHdrsImpl();
  msgHeaders.set(PubHeaders.MsgIdHdr, uuidv7());
  return msgHeaders.encode().length;
})();

const RESOLVED = Promise.resolve();

export interface BatchPublisherOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  spool: Spool;
  stats: TelemetryStats;
  drop: DropHandler;
  warn: (message: string) => void;
  /** Most publishes awaiting an ack. */
  window: number;
  /**
   * Most bytes awaiting an ack. As much again may queue for the window before batches spill to the spool,
   * and as much again may wait for the spool's disk before new batches are dropped.
   */
  maxInFlightBytes: number;
  /** Pause before draining the spool again after a failed publish. */
  retryIntervalMs: number;
  /** How long a publish waits for its JetStream ack, and a probe of a failing bus for its PONG. Default 5 s. */
  ackTimeoutMs?: number;
}

/**
 * Publishes sealed batches to JetStream with a window of acks in flight and the batch's message id. A batch
 * that cannot be published (bus down, publish failed, or too many queued for the window) goes to the spool;
 * the spool drains oldest first on reconnect and after `retryIntervalMs`, under the same message ids.
 *
 * After a failed publish the bus counts as failing until a publish is acknowledged again: new batches go
 * straight to the spool, and each drain first pings the server and sends nothing if no PONG comes back. A
 * frozen server or a half-open connection takes every byte written and answers nothing, so sending batches
 * (and spooled ones again at every retry) would only grow the socket's buffer for as long as it lasts.
 *
 * @example
 * const publisher = new BatchPublisher({ nc, js, spool, stats, drop, warn, window: 256,
 *   maxInFlightBytes: 16 * 2 ** 20, retryIntervalMs: 1000 });
 * await publisher.submit(batch); // resolves once the batch is on its way or on disk
 * await publisher.flush(); // every batch acknowledged or spooled
 */
export class BatchPublisher {
  readonly #o: BatchPublisherOptions;
  readonly #window: AckWindow;
  readonly #ackTimeoutMs: number;
  readonly #status: QueuedIterator<Status>;
  /** Work that flush() waits for: publishes, spool writes, drains. None of them rejects. */
  readonly #pending = new Set<Promise<void>>();
  #connected: boolean;
  /** Counts failed publishes, so a drain stops at the first failure instead of spooling its backlog again. */
  #failures = 0;
  /** A publish failed and none was acknowledged since: new batches go to the spool, drains probe first. */
  #failing = false;
  #draining = false;
  #closed = false;
  /** Bytes of batches waiting for the spool's disk writes. */
  #spoolingBytes = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(options: BatchPublisherOptions) {
    this.#o = options;
    this.#window = new AckWindow(options.window, options.maxInFlightBytes);
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    this.#connected = !options.nc.isClosed();
    // v3's status() is a QueuedIterator: stop() ends our loop without closing the connection.
    this.#status = options.nc.status() as QueuedIterator<Status>;
    void this.#watchConnection();
    // rtt() fails at once while reconnecting; draining then would only park requests until they time out.
    options.nc.rtt().then(
      () => this.#drain(),
      () => {
        this.#connected = false;
      },
    );
  }

  /** The largest batch payload to build now: `rack.max_payload_size` or the server's `max_payload`, less headers. */
  payloadLimit(maxPayloadSize: number): number {
    return Math.min(maxPayloadSize, this.#o.nc.info?.max_payload ?? maxPayloadSize) - MSG_ID_HEADER_BYTES;
  }

  /** Resolves when the batch holds a window slot or is on disk: the caller's backpressure. */
  submit(batch: SealedBatch): Promise<void> {
    const bytes = batch.data.length;
    if (!this.#connected || this.#failing) return this.#track(this.#spill(batch));
    if (this.#window.tryAcquire(bytes)) {
      this.#dispatch(batch);
      return RESOLVED;
    }
    // Callers that do not await would queue without end: past the bound, batches wait on disk instead.
    if (this.#window.waitingBytes + bytes > this.#o.maxInFlightBytes) return this.#track(this.#spill(batch));
    return this.#track(this.#window.acquire(bytes).then(() => this.#dispatch(batch)));
  }

  /** Waits until every submitted batch is acknowledged or spooled, and any running drain has stopped. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  /** Flushes, then stops watching the connection (which stays open: it belongs to the caller). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.flush();
    this.#status.stop();
  }

  async #watchConnection(): Promise<void> {
    for await (const status of this.#status) {
      if (status.type === "disconnect") this.#connected = false;
      else if (status.type === "reconnect") {
        this.#connected = true;
        this.#drain();
      }
    }
  }

  /** Publishes a batch that already holds a window slot; `entry` is set when it comes from the spool. */
  #dispatch(batch: SealedBatch, entry?: SpoolEntry): void {
    const { nc, js, spool, stats } = this.#o;
    const bytes = batch.data.length;
    if ((!this.#connected || this.#failing) && !entry) {
      // The bus went down or failed while this batch waited for a slot: a request now would only time out.
      this.#window.release(bytes);
      this.#track(this.#spool(batch));
      return;
    }
    const serverMax = nc.info?.max_payload;
    if (serverMax !== undefined && bytes + MSG_ID_HEADER_BYTES > serverMax) {
      // Only a batch spooled under a larger limit gets here; retrying it would fail forever.
      this.#window.release(bytes);
      const detail = `batch of ${bytes} bytes exceeds the server's max_payload (${serverMax})`;
      if (entry) this.#track(spool.discard(entry, "too_large", detail));
      else this.#dropped(batch, "too_large", detail);
      return;
    }
    const published = js
      .publish(batch.subject, batch.data, { msgID: batch.msgID, timeout: this.#ackTimeoutMs })
      .then(
        async (ack) => {
          this.#failing = false;
          stats.recordsSent += batch.records;
          stats.batchesSent += 1;
          stats.bytesSent += bytes;
          if (ack.duplicate) stats.duplicates += 1;
          batch.settle?.();
          if (entry) await spool.remove(entry);
        },
        async (error: unknown) => {
          stats.publishErrors += 1;
          this.#failures += 1;
          if (!this.#failing) {
            this.#failing = true;
            this.#o.warn(
              `telemetry: publish to ${batch.subject} failed (${error}); spooling to ${spool.dir}`,
            );
          }
          if (entry) spool.unclaim(entry);
          else await this.#spool(batch);
          this.#scheduleRetry();
        },
      );
    this.#track(published.finally(() => this.#window.release(bytes)));
  }

  /**
   * Spools a new batch unless the spool's write queue is already full: a caller that does not await can
   * out-run the disk too, and those batches are dropped rather than held in memory.
   */
  #spill(batch: SealedBatch): Promise<void> {
    if (this.#spoolingBytes + batch.data.length <= this.#o.maxInFlightBytes) return this.#spool(batch);
    const waiting = (this.#spoolingBytes / 2 ** 20).toFixed(1);
    this.#dropped(
      batch,
      "overloaded",
      `records arrive faster than ${this.#o.spool.dir} takes them (${waiting} MiB wait for the disk)`,
    );
    return RESOLVED;
  }

  #dropped(batch: SealedBatch, reason: DropReason, detail: string): void {
    this.#o.drop(batch.records, reason, detail);
    batch.settle?.(new Error(`dropped (${reason}): ${detail}`));
  }

  async #spool(batch: SealedBatch): Promise<void> {
    this.#o.stats.recordsSpooled += batch.records;
    this.#spoolingBytes += batch.data.length;
    let written = false;
    try {
      written = await this.#o.spool.write(batch);
    } finally {
      this.#spoolingBytes -= batch.data.length;
      // The spool told its drop handler why; the waiters only need to know that it is not durable.
      batch.settle?.(written ? undefined : new Error(`dropped: ${this.#o.spool.dir} did not take the batch`));
    }
    this.#scheduleRetry();
  }

  /**
   * Republishes spooled batches oldest first, until the spool is empty or a publish fails; on a failing bus,
   * only once a ping was answered.
   */
  #drain(): void {
    const { spool } = this.#o;
    if (this.#draining || this.#closed || !this.#connected || spool.batches === 0) return;
    this.#draining = true;
    const drained = (async () => {
      if (this.#failing && !(await this.#answers())) return;
      const failures = this.#failures;
      const stillGood = () => this.#connected && !this.#closed && this.#failures === failures;
      for (let entry = spool.claimOldest(); entry; entry = stillGood() ? spool.claimOldest() : undefined) {
        let batch: SealedBatch;
        try {
          batch = await spool.read(entry);
        } catch (error) {
          await spool.discard(entry, "spool_unreadable", String(error));
          continue;
        }
        await this.#window.acquire(batch.data.length);
        if (stillGood()) this.#dispatch(batch, entry);
        else {
          this.#window.release(batch.data.length);
          spool.unclaim(entry);
        }
      }
    })();
    this.#track(
      drained.finally(() => {
        this.#draining = false;
        // A retry that fired while this drain ran found it running and did nothing; if this drain then stopped
        // at a failure, nothing else would ever send what is left (a healthy bus fails no more publishes).
        if (spool.unclaimed > 0) this.#scheduleRetry();
      }),
    );
  }

  /** Whether the server answers a ping within the ack timeout: a few bytes on the wire, not a batch. */
  async #answers(): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no PONG")), this.#ackTimeoutMs);
    });
    try {
      await Promise.race([this.#o.nc.rtt(), timedOut]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  #scheduleRetry(): void {
    if (this.#retry !== undefined || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#drain();
    }, this.#o.retryIntervalMs);
    this.#retry.unref();
  }

  #track(work: Promise<void>): Promise<void> {
    const tracked = work.catch((error: unknown) => this.#o.warn(`telemetry: unexpected failure: ${error}`));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
    return tracked;
  }
}
