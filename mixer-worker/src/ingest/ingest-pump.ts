import {
  AckPolicy,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  jetstream,
} from "@nats-io/jetstream";
import { type NatsConnection, nanos } from "@nats-io/nats-core";
import type { MixerConfig } from "../../../shared/config/index.ts";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import type { BatchKind } from "../../../shared/telemetry/batch.ts";
import { consoleLine } from "../self/console-line.ts";
import type { StoredRow } from "../store/index.ts";
import { MAX_ROWS_PER_FILE, RowArena, type StoreResult } from "../store/index.ts";
import type { DeadLetter } from "./dead-letter.ts";
import { decodeBatchRows } from "./decode-batch.ts";
import type { EntityCheck } from "./entity-claims.ts";
import { flushBatches } from "./flush-batches.ts";
import { PendingBatches } from "./pending-batches.ts";
import { PullSizer } from "./pull-sizer.ts";

/**
 * A bound on one flush, for the isolate's 128 MB: a flush holds at most one object's worth of records (and one
 * pull at most about MAX_PULL_BYTES of CBOR). Each pump has its own.
 */
const MAX_RECORDS_PER_FLUSH = MAX_ROWS_PER_FILE;

/** One durable consumer the bridge drains into R2, and what it stores. */
export interface IngestPumpOptions {
  /** The stream and the durable consumer's name and filter (nats-server 2.9: one filter per consumer). */
  stream: string;
  consumer: string;
  filter: string;
  /** The batch kinds its subjects carry; a batch claiming another kind is dead-lettered. */
  kinds: readonly BatchKind[];
  /** Writes one flush of one kind's rows; resolves once R2 has them (then the messages are acked). */
  store: (kind: BatchKind, rows: StoredRow[]) => Promise<StoreResult>;
  /** Whom a subject's records may speak for; records claiming another entity are dead-lettered. */
  entities?: (subject: string) => Promise<EntityCheck>;
}

/** What a pump has done since the bridge started, for `/health`. */
export interface IngestCounters {
  lastFlushAt: string | null;
  /** Records received but not yet written to R2 (their messages are not acked yet). */
  pendingRecords: number;
  pendingMessages: number;
  recordsStored: number;
  objectsWritten: number;
  bytesWritten: number;
  flushes: number;
  /** Cumulative milliseconds per ingest stage: where the time goes. */
  timing: { decodeMs: number; encodeMs: number; putMs: number; ackMs: number };
  messagesDeadLettered: number;
  recordsDeadLettered: number;
}

type IngestSettings = Pick<MixerConfig, "ingest" | "mixer" | "observability">;

/**
 * Pulls one durable consumer into R2: holds up to `ingest.buffer_size` messages (and at most one object's worth
 * of records), writes them every `ingest.flush_interval` or when full, and acks each message only after its
 * records are stored; what decoding refuses is dead-lettered and acked, a failed write redelivered with
 * backoff. The bridge runs one per consumer (telemetry, journal) on its one connection.
 *
 * @example
 * const pump = new IngestPump({ stream, consumer: "mixer-journal", filter: "flux.journal.>", kinds: ["messages"], store });
 * await pump.ensureConsumer(jsm, config.ingest);
 * await pump.run(nc, config, deadLetter); // until the connection closes
 */
export class IngestPump {
  readonly #o: IngestPumpOptions;
  #pending = new PendingBatches();
  /** Where the pending rows are written; written again once a flush is done with them. */
  #arena = new RowArena();
  #pullSizer: PullSizer | undefined;
  #lastFlushAt = 0;
  #running: Promise<void> | undefined;
  #stats = {
    recordsStored: 0,
    objectsWritten: 0,
    bytesWritten: 0,
    flushes: 0,
    timing: { decodeMs: 0, encodeMs: 0, putMs: 0, ackMs: 0 },
    messagesDeadLettered: 0,
    recordsDeadLettered: 0,
  };

  constructor(options: IngestPumpOptions) {
    this.#o = options;
  }

  counters(): IngestCounters {
    return {
      lastFlushAt: this.#lastFlushAt ? new Date(this.#lastFlushAt).toISOString() : null,
      pendingRecords: this.#pending.recordCount,
      pendingMessages: this.#pending.messageCount,
      ...this.#stats,
      timing: { ...this.#stats.timing },
    };
  }

  /** Creates the durable consumer, or updates it when its settings changed. */
  async ensureConsumer(jsm: JetStreamManager, ingest: MixerConfig["ingest"]): Promise<void> {
    const { stream, consumer: name, filter } = this.#o;
    const consumer = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      filter_subject: filter,
      // Long enough to survive a slow flush; working() pings extend it while a write is under way.
      ack_wait: nanos(2 * ingest.flush_interval + 5_000),
      max_ack_pending: Math.max(ingest.buffer_size * 4, 1_000),
    };
    // Adding an existing durable with other settings fails; then update it, and say both causes if that fails.
    await jsm.consumers.add(stream, consumer).catch(async (addError: Error) => {
      await jsm.consumers.update(stream, name, consumer).catch((updateError: Error) => {
        throw new Error(
          `cannot create the ${name} consumer on ${stream} (${addError.message}) nor update it (${updateError.message})`,
        );
      });
    });
  }

  /**
   * Pulls, holds and flushes until the connection closes or a pull fails (the bridge then calls it again).
   * While a run is under way, calling it again returns that run: one loop per consumer, whatever the caller.
   */
  run(
    nc: NatsConnection,
    domain: string,
    settings: () => IngestSettings,
    deadLetter: DeadLetter,
  ): Promise<void> {
    this.#running ??= this.#loop(nc, domain, settings, deadLetter).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #loop(nc: NatsConnection, domain: string, settings: () => IngestSettings, deadLetter: DeadLetter) {
    const consumer = await jetstream(nc, { domain }).consumers.get(this.#o.stream, this.#o.consumer);
    if (!this.#lastFlushAt) this.#lastFlushAt = Date.now();
    this.#pullSizer ??= new PullSizer(settings().mixer.max_payload_size);
    const sizer = this.#pullSizer;
    const pull = (room: number, untilFlush: number) =>
      consumer.fetch({ max_messages: sizer.count(room), expires: Math.max(1_000, untilFlush) });
    /** The pull asked for before a flush, read once the flush is done. */
    let ahead: Promise<ConsumerMessages> | undefined;
    while (!nc.isClosed()) {
      const { flush_interval: flushInterval, buffer_size: bufferSize } = settings().ingest;
      const untilFlush = this.#lastFlushAt + flushInterval - Date.now();
      const room = bufferSize - this.#pending.messageCount;
      if (ahead || (room > 0 && untilFlush > 0 && this.#pending.recordCount < MAX_RECORDS_PER_FLUSH)) {
        const messages = await (ahead ?? pull(room, untilFlush));
        ahead = undefined;
        for await (const message of messages) await this.#accept(message, settings(), deadLetter);
      }
      const full =
        this.#pending.messageCount >= bufferSize || this.#pending.recordCount >= MAX_RECORDS_PER_FLUSH;
      if (full || Date.now() >= this.#lastFlushAt + flushInterval) {
        // The next pull is asked for first, so the bus delivers it while the flush encodes and waits on R2
        // (in workerd receiving 1 MB messages runs near 150 MB/s: a third of the bridge's time at 100k
        // journal records/s). Its messages are read, and their rows written, only after the flush.
        ahead = pull(bufferSize, flushInterval);
        ahead.catch(() => undefined); // a closed connection ends the loop without reading it
        await this.#flush(nc, deadLetter);
      }
    }
  }

  /** Takes one message: its good records are held for the next flush, what is refused is dead-lettered. */
  async #accept(message: JsMsg, settings: IngestSettings, deadLetter: DeadLetter): Promise<void> {
    this.#pullSizer?.saw(message.data.byteLength);
    const entity = await this.#o.entities?.(message.subject);
    const t0 = performance.now();
    const decoded = decodeBatchRows(
      message.data,
      {
        ...(entity ? { entity } : {}),
        maxPayloadSize: settings.mixer.max_payload_size,
        now: Date.now(),
        maxAgeMs: settings.observability.embedded.rotation.max_age_days * 86_400_000,
        kinds: this.#o.kinds,
      },
      settings.observability.embedded.storage.format,
      this.#arena,
    );
    this.#stats.timing.decodeMs += performance.now() - t0;
    try {
      if (!decoded.ok) {
        await deadLetter(message.subject, decoded.reason, message.data);
        this.#stats.messagesDeadLettered++;
        message.ack();
        return;
      }
      if (decoded.rejected.length > 0) {
        const reason = decoded.rejected.map((r) => r.reason).join("; ");
        await deadLetter(
          message.subject,
          reason,
          cbor.encode({ kind: decoded.kind, rejected: decoded.rejected }),
        );
        this.#stats.recordsDeadLettered += decoded.rejected.length;
      }
    } catch (error) {
      // The dead letter is not stored yet: keep the original and try again shortly.
      consoleLine(
        "error",
        `snake bridge: dead-lettering from ${message.subject} failed: ${(error as Error).message}`,
      );
      message.nak(1_000);
      return;
    }
    if (decoded.rows.length === 0) message.ack();
    else this.#pending.add({ message, kind: decoded.kind, rows: decoded.rows });
  }

  async #flush(nc: NatsConnection, deadLetter: DeadLetter): Promise<void> {
    const batches = this.#pending.take();
    this.#lastFlushAt = Date.now();
    if (batches.length === 0) return;
    for (const batch of batches) batch.message.working();
    const stats = this.#stats;
    // Every row held is in `batches`, and none is read once they are stored or given back: their blocks are
    // written again from here on (the loop is serial: no message is accepted while this flush runs).
    await flushBatches(batches, {
      store: this.#o.store,
      deadLetter,
      onStored: (stored, records) => {
        stats.objectsWritten += stored.keys.length;
        stats.bytesWritten += stored.bytes;
        stats.timing.encodeMs += stored.encodeMs;
        stats.timing.putMs += stored.putMs;
        stats.recordsStored += records;
      },
      onDeadLettered: (records) => {
        stats.recordsDeadLettered += records;
        stats.messagesDeadLettered++;
      },
    }).finally(() => this.#arena.reset());
    const t0 = performance.now();
    await nc.flush();
    stats.timing.ackMs += performance.now() - t0;
    stats.flushes++;
  }
}
