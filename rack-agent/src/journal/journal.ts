import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import type { FluxMsgDraft } from "../../../shared/fluxmsg/produce.ts";
import {
  buildJournalEntry,
  type JournalCrossing,
  type JournalEntry,
  type JournalView,
} from "./journal-record.ts";

/** Where journal entries go: the rack's telemetry client (`Telemetry.journal`). */
export interface JournalSink {
  journal(entry: JournalEntry, options?: { durable?: boolean }): Promise<void>;
}

export interface JournalOptions {
  /** Masks messages that name a spec (`meta.spec`); see {@link JournalView}. */
  view?: JournalView | undefined;
  warn?: (message: string) => void;
}

/** How often a withheld message is told to the operator at most. */
const WARN_EVERY_MS = 60_000;

/**
 * The rack's journal: records messages as they cross gears (the `journal` gear, guaranteed wires when a
 * scenario says `journal: {guaranteed_wires: true}`) and hands the entries to the sink. Counts what it
 * recorded and what it withheld (content of spec'd messages with no view to mask them).
 *
 * @example
 * const journal = new Journal(telemetry, { warn: log.warn });
 * await journal.record(msg, { direction: "inbound", status: "ok", src: null, dst: "parse" });
 */
export class Journal {
  recorded = 0;
  /** Messages journaled without `raw_msg`/`promoted` because they name a spec and no view could mask them. */
  withheld = 0;
  #warnedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sink: JournalSink,
    private readonly options: JournalOptions = {},
  ) {}

  /** Masks spec'd messages with `view` from now on (the rack's specs arrive with its scenario part). */
  useView(view: JournalView): this {
    this.options.view = view;
    return this;
  }

  /**
   * Records one crossing. Resolves when the sink has room (backpressure); with `durable`, only once the record
   * is acknowledged by the bus or fsynced to the rack's spool, and rejects if it never will be.
   */
  record(msg: FluxMsg, crossing: JournalCrossing, options?: { durable?: boolean }): Promise<void> {
    const { entry, withheld } = buildJournalEntry(msg, crossing, this.options.view);
    this.recorded++;
    if (withheld) this.#withheld(msg);
    return this.sink.journal(entry, options);
  }

  /**
   * Records a business dead letter (what went to `flux.dlq.msg.<rack>`) as refused by `gear`: status `error`,
   * the reason in `promoted.dead_letter`, `raw_msg` the message as it was dead-lettered. Refused as it left
   * the gear (its `src` is that gear: over max_hops or max_payload_size), it has no destination; refused by
   * an ingress gear before it had a source, it is `inbound`.
   *
   * @example await journal.deadLetter(msg, "authorizer", "gear authorizer failed on port in: timeout");
   */
  deadLetter(msg: FluxMsgDraft, gear: string, reason: string): Promise<void> {
    const from = msg.src?.gear ?? null;
    const leaving = from === gear;
    // A draft lacks `src` and `path`, which neither the record nor a spec's masking reads.
    return this.record(msg as FluxMsg, {
      direction: from === null ? "inbound" : "internal",
      status: "error",
      src: from,
      dst: leaving ? null : gear,
      deadLetter: reason,
    });
  }

  #withheld(msg: FluxMsg): void {
    this.withheld++;
    const now = Date.now();
    if (now - this.#warnedAt < WARN_EVERY_MS) return;
    this.#warnedAt = now;
    (this.options.warn ?? console.warn)(
      `journal: message ${msg.id} names spec "${msg.meta.spec}", which this rack cannot apply to mask it; ` +
        `journaled without raw_msg and promoted (${this.withheld} so far)`,
    );
  }
}
