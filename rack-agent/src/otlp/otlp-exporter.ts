import { clearTimeout, setTimeout } from "node:timers";
import { encodeOtlpRequest, type OtlpSource } from "../../../shared/otlp/otlp-encode.ts";
import { uuidv7 } from "../../../shared/random/uuidv7.ts";
import {
  type RecordOf,
  TELEMETRY_KINDS,
  type TelemetryKind,
  type TelemetryRecord,
} from "../../../shared/telemetry/records.ts";
import type { SealedBatch } from "../telemetry/record-batch.ts";
import type { Spool, SpoolEntry } from "../telemetry/spool.ts";
import type { DropHandler, TelemetryStats } from "../telemetry/stats.ts";
import { OtlpExportError, type OtlpTransport } from "./otlp-transport.ts";

export interface OtlpExporterOptions {
  transport: OtlpTransport;
  source: OtlpSource;
  /** Where batches wait while the collector is unreachable (`store.wal_max_size_mb` bounds it). */
  spool: Spool;
  stats: TelemetryStats;
  drop: DropHandler;
  warn: (message: string) => void;
  /** First pause before exporting from the spool again after a failure; it doubles up to `maxRetryIntervalMs`. */
  retryIntervalMs: number;
  /** Default 30 s. */
  maxRetryIntervalMs?: number;
  /** Records per export request. Default 512. */
  maxBatchRecords?: number;
  /** A batch that is not full is exported after this long. Default 200 ms. */
  flushIntervalMs?: number;
  /** Export requests under way at once. Default 4. */
  concurrency?: number;
  /** Bytes of encoded batches waiting for a request slot, and again for the spool's disk. Default 16 MiB. */
  maxQueuedBytes?: number;
}

const RESOLVED = Promise.resolve();
/** The spool's subject for an OTLP batch: `otlp.<kind>`; its data is the encoded export request. */
const SUBJECT_PREFIX = "otlp.";

/**
 * The OTLP tier's pipeline: batches records per signal, encodes each batch as an OTLP export request, and
 * sends it with a few requests in flight. A batch the collector could not take (unreachable, timeout, a status
 * OTLP says to retry) goes to the bounded spool, and the spool is exported again oldest first with
 * exponential backoff, from `retryIntervalMs` to `maxRetryIntervalMs`; a batch the collector refused for good
 * (e.g. HTTP 400) is dropped and counted as `rejected`.
 *
 * @example
 * const exporter = new OtlpExporter({ transport, source, spool, stats, drop, warn, retryIntervalMs: 1_000 });
 * await exporter.add("logs", record);
 * await exporter.close(); // everything exported or spooled
 */
export class OtlpExporter {
  readonly #o: OtlpExporterOptions;
  readonly #records = Object.fromEntries(TELEMETRY_KINDS.map((kind) => [kind, []])) as unknown as Record<
    TelemetryKind,
    TelemetryRecord[]
  >;
  /** Sealed batches waiting for a request slot. */
  readonly #queue: SealedBatch[] = [];
  #queuedBytes = 0;
  #spoolingBytes = 0;
  #inFlight = 0;
  /** Work flush() waits for: exports, spool writes, drains. None rejects. */
  readonly #pending = new Set<Promise<void>>();
  /** Set by a retryable failure, cleared by the next success: meanwhile new batches go to the spool. */
  #failing = false;
  #draining = false;
  #closed = false;
  #retryDelay: number;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: OtlpExporterOptions) {
    this.#o = options;
    this.#retryDelay = options.retryIntervalMs;
    // What a previous run left in the spool goes first.
    this.#drain();
  }

  /** Adds a record to its signal's batch; resolves at once unless its batch had to wait for the spool's disk. */
  add<K extends TelemetryKind>(kind: K, record: RecordOf<K>): Promise<void> {
    if (this.#closed) return RESOLVED;
    const batch = this.#records[kind];
    batch.push(record);
    if (batch.length >= (this.#o.maxBatchRecords ?? 512)) return this.#seal(kind);
    if (this.#flushTimer === undefined) {
      this.#flushTimer = setTimeout(() => this.#sealAll(), this.#o.flushIntervalMs ?? 200);
      this.#flushTimer.unref();
    }
    return RESOLVED;
  }

  /** Exports what is batched and waits until every record so far is exported, refused or spooled. */
  async flush(): Promise<void> {
    this.#sealAll();
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.flush();
    this.#o.transport.close();
  }

  #sealAll(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    for (const kind of TELEMETRY_KINDS) if (this.#records[kind].length > 0) void this.#seal(kind);
  }

  #seal(kind: TelemetryKind): Promise<void> {
    const records = this.#records[kind].splice(0);
    let data: Uint8Array;
    try {
      data = encodeOtlpRequest(kind, records as RecordOf<typeof kind>[], this.#o.source);
    } catch (error) {
      this.#o.drop(records.length, "rejected", `cannot encode ${kind} as OTLP: ${error}`);
      return RESOLVED;
    }
    const batch = { msgID: uuidv7(), subject: SUBJECT_PREFIX + kind, data, records: records.length };
    if (this.#failing) return this.#track(this.#spill(batch));
    if (this.#inFlight < (this.#o.concurrency ?? 4)) {
      this.#track(this.#export(batch));
      return RESOLVED;
    }
    const maxQueued = this.#o.maxQueuedBytes ?? 16 * 2 ** 20;
    if (this.#queuedBytes + data.length > maxQueued) return this.#track(this.#spill(batch));
    this.#queue.push(batch);
    this.#queuedBytes += data.length;
    return RESOLVED;
  }

  /** Exports a new batch; on a retryable failure it goes to the spool. */
  async #export(batch: SealedBatch): Promise<void> {
    const outcome = await this.#send(batch);
    if (outcome === "retry") await this.#spool(batch);
    this.#pump();
  }

  /** Starts queued batches as request slots free up (or spools them while the collector fails). */
  #pump(): void {
    while (this.#queue.length > 0 && (this.#failing || this.#inFlight < (this.#o.concurrency ?? 4))) {
      const batch = this.#queue.shift() as SealedBatch;
      this.#queuedBytes -= batch.data.length;
      this.#track(this.#failing ? this.#spill(batch) : this.#export(batch));
    }
  }

  /** One export request and its accounting: "ok", "retry" (a retryable failure) or "rejected" (dropped). */
  async #send(batch: SealedBatch, entry?: SpoolEntry): Promise<"ok" | "retry" | "rejected"> {
    const { stats, transport, spool } = this.#o;
    const kind = batch.subject.slice(SUBJECT_PREFIX.length) as TelemetryKind;
    this.#inFlight++;
    try {
      await transport.send(kind, batch.data);
    } catch (error) {
      stats.publishErrors += 1;
      if (error instanceof OtlpExportError && !error.retryable) {
        if (entry) await spool.discard(entry, "rejected", error.message);
        else this.#o.drop(batch.records, "rejected", error.message);
        return "rejected";
      }
      if (!this.#failing) {
        this.#failing = true;
        this.#o.warn(`telemetry: OTLP export failed (${(error as Error).message}); spooling to ${spool.dir}`);
      }
      this.#scheduleRetry();
      return "retry";
    } finally {
      this.#inFlight--;
    }
    stats.recordsSent += batch.records;
    stats.batchesSent += 1;
    stats.bytesSent += batch.data.length;
    if (entry) await spool.remove(entry);
    if (this.#failing) {
      this.#failing = false;
      this.#o.warn(`telemetry: OTLP export works again; sending what waits in ${spool.dir}`);
    }
    this.#retryDelay = this.#o.retryIntervalMs;
    this.#drain();
    return "ok";
  }

  /** Spools a batch unless the disk is already that far behind: past it, the batch is dropped and counted. */
  #spill(batch: SealedBatch): Promise<void> {
    if (this.#spoolingBytes + batch.data.length <= (this.#o.maxQueuedBytes ?? 16 * 2 ** 20)) {
      return this.#spool(batch);
    }
    this.#o.drop(batch.records, "overloaded", `records arrive faster than ${this.#o.spool.dir} takes them`);
    return RESOLVED;
  }

  async #spool(batch: SealedBatch): Promise<void> {
    this.#o.stats.recordsSpooled += batch.records;
    this.#spoolingBytes += batch.data.length;
    try {
      await this.#o.spool.write(batch);
    } finally {
      this.#spoolingBytes -= batch.data.length;
    }
    this.#scheduleRetry();
  }

  /** Exports spooled batches one at a time, oldest first, until the spool is empty or an export fails. */
  #drain(): void {
    const { spool } = this.#o;
    if (this.#draining || this.#closed || spool.batches === 0) return;
    this.#draining = true;
    const drained = (async () => {
      for (let entry = spool.claimOldest(); entry; entry = this.#closed ? undefined : spool.claimOldest()) {
        let batch: SealedBatch;
        try {
          batch = await spool.read(entry);
          const kind = batch.subject.slice(SUBJECT_PREFIX.length);
          if (
            !batch.subject.startsWith(SUBJECT_PREFIX) ||
            !(TELEMETRY_KINDS as readonly string[]).includes(kind)
          ) {
            throw new Error(`subject ${batch.subject} is not an OTLP batch's`);
          }
        } catch (error) {
          await spool.discard(entry, "spool_unreadable", String(error));
          continue;
        }
        const outcome = await this.#send(batch, entry);
        if (outcome === "retry") {
          spool.unclaim(entry);
          break;
        }
      }
    })();
    this.#track(
      drained.finally(() => {
        this.#draining = false;
      }),
    );
  }

  #scheduleRetry(): void {
    if (this.#retry !== undefined || this.#closed) return;
    const delay = this.#retryDelay;
    this.#retryDelay = Math.min(delay * 2, this.#o.maxRetryIntervalMs ?? 30_000);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#drain();
    }, delay);
    this.#retry.unref();
  }

  #track(work: Promise<void>): Promise<void> {
    const tracked = work.catch((error: unknown) =>
      this.#o.warn(`telemetry: unexpected OTLP failure: ${error}`),
    );
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
    return tracked;
  }
}
