import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import {
  buildJournalEntry,
  type JournalCrossing,
  type JournalEntry,
  type JournalView,
} from "./journal-record.ts";

/** Where journal entries go: the rack's telemetry client (`Telemetry.journal`). */
export interface JournalSink {
  journal(entry: JournalEntry): Promise<void>;
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

  record(msg: FluxMsg, crossing: JournalCrossing): Promise<void> {
    const { entry, withheld } = buildJournalEntry(msg, crossing, this.options.view);
    this.recorded++;
    if (withheld) this.#withheld(msg);
    return this.sink.journal(entry);
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
