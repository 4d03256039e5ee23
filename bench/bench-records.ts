/** The synthetic records the ingest benches emit, by rack clients or replayed (one definition for both). */
import type { JournalEntry } from "../rack-agent/src/journal/journal-record.ts";
import { uuidv7 } from "../shared/random/uuidv7.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
/** A small fluxMsg-sized payload, as a generic message's raw_msg (the CBOR of a masked order). */
const RAW_MSG = new Uint8Array(120).fill(0x61);

/** The i-th log's own fields (the client adds the record id, time, entity and flux id). */
export function benchLog(i: number) {
  return {
    level: i % 50 === 0 ? ("error" as const) : ("info" as const),
    message: `payment ${i} authorised by issuer`,
    attributes: { gear_id: "router", seq: i },
  };
}

/** The i-th journal entry, as a journal gear hands it to the client (which adds the record id and entity). */
export function benchJournalEntry(i: number): JournalEntry {
  return {
    ts: Date.now(),
    trace_id: TRACE_ID,
    flux_id: uuidv7(),
    src_gear_id: "parse",
    dst_gear_id: "authorize",
    msg_type: "card.auth",
    direction: "internal",
    status: i % 50 === 0 ? "error" : "ok",
    raw_msg: RAW_MSG,
    promoted: null,
    spec: null,
  };
}
