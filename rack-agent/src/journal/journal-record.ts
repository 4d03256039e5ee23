import { encodeFluxMsg } from "../../../shared/fluxmsg/codec.ts";
import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import { parseTraceparent } from "../../../shared/fluxmsg/traceparent.ts";
import {
  type JournalDirection,
  type JournalRecord,
  type JournalStatus,
  specIdSchema,
} from "../../../shared/journal/record.ts";

/** A journal record's own fields; the telemetry client adds the record id and the entity (the rack). */
export type JournalEntry = Omit<JournalRecord, "record_id" | "entity_id" | "entity_name" | "raw_msg"> & {
  raw_msg: Uint8Array | null;
};

/** Where and how a message crossed a gear. */
export interface JournalCrossing {
  direction: JournalDirection;
  status: JournalStatus;
  /** The gear that emitted it, null at ingress (it came from outside). */
  src: string | null;
  /** The gear it went to, null at egress (it left the platform). */
  dst: string | null;
  /** When it crossed; default now. */
  ts?: number;
  /**
   * Why it was dead-lettered (`flux.dlq.msg.<rack>`), when it was: kept as `promoted.dead_letter`, so the
   * failing hop says why in `fluxrig flux` and `fluxrig messages` (the reference's `status` is only ok/error).
   */
  deadLetter?: string;
}

/**
 * What a fluxSpec lets the journal keep of a message: the message with every masked field already masked (in
 * `data` and in `raw`), the spec's promoted fields (masked too), and the spec's id (the storage folder). The
 * spec module provides it (`journalView`, over the rack's specs: `specJournalView`); undefined, or no view,
 * means the message cannot be masked here, and it is journaled without `raw_msg` and `promoted`.
 */
export type JournalView = (msg: FluxMsg) =>
  | {
      msg: FluxMsg;
      promoted: Record<string, unknown> | null;
      spec: string | null;
    }
  | undefined;

/** A journal entry, and whether the message's content was withheld (it names a spec nobody could apply). */
export interface BuiltJournalEntry {
  entry: JournalEntry;
  withheld: boolean;
}

/** A trace id for a message whose traceparent is unreadable (cannot happen past the schema, but never throw). */
const NO_TRACE = "0".repeat(32);

/**
 * Builds the journal entry of one message crossing a gear: the one place raw content enters the journal.
 * A message without `meta.spec` is kept whole (`raw_msg` = the fluxMsg as CBOR). A message naming a spec is
 * kept as `view` masks it; with no view, nothing of its content is kept (`raw_msg` and `promoted` null),
 * since unmasked spec'd data must never leave the rack, and `withheld` says so for the caller to count.
 *
 * @example
 * const { entry } = buildJournalEntry(msg, { direction: "internal", status: "ok", src: "parse", dst: "auth" });
 */
export function buildJournalEntry(
  msg: FluxMsg,
  crossing: JournalCrossing,
  view?: JournalView,
): BuiltJournalEntry {
  const named = msg.meta.spec;
  let kept: FluxMsg | null = msg;
  let promoted: Record<string, unknown> | null = null;
  let spec: string | null = null;
  let withheld = false;
  if (named !== undefined) {
    const seen = view?.(msg);
    if (seen) {
      kept = seen.msg;
      promoted = seen.promoted;
      spec = seen.spec;
    } else {
      kept = null;
      withheld = true;
      spec = named;
    }
  }
  // A spec id that cannot name a folder is stored under generic/, never dropped.
  if (spec !== null && !specIdSchema.safeParse(spec).success) spec = null;
  if (crossing.deadLetter !== undefined) promoted = { ...promoted, dead_letter: crossing.deadLetter };
  return {
    entry: {
      ts: crossing.ts ?? Date.now(),
      trace_id: parseTraceparent(msg.trace)?.traceId ?? NO_TRACE,
      flux_id: msg.id,
      src_gear_id: crossing.src,
      dst_gear_id: crossing.dst,
      msg_type: msg.type,
      direction: crossing.direction,
      status: crossing.status,
      raw_msg: kept ? encodeFluxMsg(kept) : null,
      promoted,
      spec,
    },
    withheld,
  };
}
