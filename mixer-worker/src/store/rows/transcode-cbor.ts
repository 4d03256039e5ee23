import { JOURNAL_KIND } from "../../../../shared/journal/record.ts";
import {
  BATCH_KINDS,
  type BatchEntity,
  type BatchKind,
  batchEntitySchema,
  TELEMETRY_BATCH_VERSION,
} from "../../../../shared/telemetry/batch.ts";
import { ENTITY_NAME_MAX } from "../../../../shared/telemetry/entity-name.ts";
import { MAX_EPOCH_MS } from "../../../../shared/telemetry/records.ts";
import { MESSAGE_COLUMNS, TELEMETRY_COLUMNS } from "../parquet-schema.ts";
import { writeUint32 } from "../utf8-sink.ts";
import { FIELD_RULES, type FieldRule } from "./field-rules.ts";
import { uuidText, writeMicros, writeUuid } from "./plain-values.ts";
import { RowArena } from "./row-arena.ts";
import { type FluxRange, NULL_CELL, type StoredRow } from "./stored-row.ts";

/** What a record must also pass besides its fields' rules; a record that fails goes the slow way, to be told. */
export interface TranscodeChecks {
  /** Records outside [oldest, newest] (epoch ms) are refused by the slow path, with the reason. */
  oldest: number;
  newest: number;
  /** Whether a record may speak for this entity (ingest's entity claim check); undefined: anyone. */
  entityAllowed?: (entityId: string, entityName: string) => boolean;
}

/** A batch transcoded: the rows of the records the fast path took, and the others as their own CBOR. */
export interface TranscodedBatch {
  kind: BatchKind;
  /** The batch's entity, which records without one take (the others too: see recordWithEntity). */
  entity: BatchEntity | undefined;
  rows: StoredRow[];
  /** Records the fast path did not take (an unusual value, or one to refuse): for the schema to decide. */
  others: { index: number; cbor: Uint8Array }[];
}

/** Thrown inside the transcoder at anything it does not take; caught per record (or per message). */
const SURPRISE = new Error("not a value the fast path takes");

/** The byte values of `"`, `\`, `,` and the JSON letters this writes. */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const HEX = new TextEncoder().encode("0123456789abcdef");
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Where a number is turned into its PLAIN bytes (FLOAT or DOUBLE, little-endian). */
const NUMBER_BYTES = new Uint8Array(8);
const NUMBER = new DataView(NUMBER_BYTES.buffer);

/** Per byte: 1 for a lowercase hex digit, 2 for an entity name character, 4 for a NAME_PATTERN character. */
const CHAR_CLASS = new Uint8Array(256);
const addClass = (chars: string, mask: number) => {
  for (let i = 0; i < chars.length; i++) {
    const c = chars.charCodeAt(i);
    CHAR_CLASS[c] = (CHAR_CLASS[c] as number) | mask;
  }
};
addClass("0123456789abcdef", 1);
addClass("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", 6);
addClass(".", 2);

/** JSON.stringify's short escapes for control characters. */
const SHORT_ESCAPE: Record<number, number> = { 8: 0x62, 9: 0x74, 10: 0x6e, 12: 0x66, 13: 0x72 };

/** One kind's plan: its fields' rules and key bytes, and its columns as field indexes. */
interface KindPlan {
  keys: Uint8Array[];
  rules: FieldRule[];
  columns: number[];
  /** Per field: 1 where its column is FLOAT (a number stored as 4 bytes, not 8). */
  float32: Uint8Array;
  /** Fields checked but stored in no column. */
  unstored: number[];
  /** Per field, the field that followed it in the last record read (-1 at first): racks keep one order. */
  next: Int32Array;
  ts: number;
  fluxId: number;
  entityId: number;
  entityName: number;
  spec: number;
}

const PLANS = new Map<BatchKind, KindPlan>(
  BATCH_KINDS.map((kind) => {
    const fields = FIELD_RULES[kind];
    const index = (name: string) => fields.findIndex((field) => field.name === name);
    const columns = kind === JOURNAL_KIND ? MESSAGE_COLUMNS : TELEMETRY_COLUMNS[kind];
    const stored = columns.map((column) => {
      const at = index(column.name);
      if (at < 0) throw new Error(`no fast-path rule for ${kind} column ${column.name}`);
      return at;
    });
    return [
      kind,
      {
        keys: fields.map((field) => encoder.encode(field.name)),
        rules: fields.map((field) => field.rule),
        columns: stored,
        unstored: fields.map((_, i) => i).filter((i) => !stored.includes(i)),
        next: new Int32Array(fields.length + 1).fill(-1),
        float32: Uint8Array.from(fields, (field) =>
          columns.some((column) => column.name === field.name && column.type === "FLOAT") ? 1 : 0,
        ),
        ts: index("ts"),
        fluxId: index("flux_id"),
        entityId: index("entity_id"),
        entityName: index("entity_name"),
        spec: index("spec"),
      },
    ];
  }),
);

const MAX_DEPTH = 32;
const MAX_KEYS = 64;

/**
 * Ingest's fast path: reads a telemetry or journal message's CBOR and writes each record's stored row
 * (the cells rows/encode-rows.ts would write for it) in one pass over the bytes, with no object per
 * record. It takes only plain shapes (definite lengths, text keys, float64 or integer numbers, valid UTF-8,
 * values the fields' rules accept: see field-rules.ts); any other record is handed back whole in `others`
 * for the schema to decide, and a message not shaped `{v, kind, records}` gives undefined (decode it all the
 * slow way). So it never accepts what the schemas refuse, and what it writes is byte for byte what the
 * slow path writes (transcode-cbor.test.ts). Rows are views into `arena`'s blocks, shared by every message
 * given the same arena (see row-arena.ts for when they are done with).
 *
 * @example const batch = transcodeBatch(msg.data, { oldest, newest }, arena); // undefined: use the slow path
 */
export function transcodeBatch(
  data: Uint8Array,
  checks: TranscodeChecks,
  arena: RowArena = new RowArena(),
): TranscodedBatch | undefined {
  const transcoder = new Transcoder(data, checks, arena);
  try {
    return transcoder.batch();
  } catch (error) {
    if (error === SURPRISE) return undefined;
    throw error;
  } finally {
    transcoder.release();
  }
}

class Transcoder {
  readonly #b: Uint8Array;
  readonly #view: DataView;
  readonly #checks: TranscodeChecks;
  readonly #arena: RowArena;
  #at = 0;
  #arg = 0;
  /** The block rows are written into, how much of it is used, and where the row being written starts. */
  #out: Uint8Array;
  #len: number;
  #lineStart: number;
  /** Where each field's value starts in the record being read (-1: absent). */
  #fields = new Int32Array(0);
  /** The lowest and highest flux id of the message's rows so far (16 bytes each), once one is seen. */
  readonly #fluxMin = new Uint8Array(16);
  readonly #fluxMax = new Uint8Array(16);
  #fluxSeen = false;
  /** Where the batch's entity id and name (text items) are, -1 without one; and the entity itself. */
  #entityIdAt = -1;
  #entityNameAt = -1;
  #entity: BatchEntity | undefined;
  /** The last entity (id and name bytes) allowed, so a batch from one rack is checked once. */
  #allowed: Uint8Array | undefined;

  constructor(data: Uint8Array, checks: TranscodeChecks, arena: RowArena) {
    this.#b = data;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.#checks = checks;
    this.#arena = arena;
    this.#out = arena.block;
    this.#len = arena.used;
    this.#lineStart = arena.used;
  }

  /** Hands the block back for the next message (what a refused record wrote is reused too). */
  release(): void {
    this.#arena.used = this.#lineStart;
  }

  batch(): TranscodedBatch {
    if (this.#head() !== 5) throw SURPRISE;
    let kind: BatchKind | undefined;
    let version = false;
    let recordsAt = -1;
    for (let pairs = this.#arg; pairs > 0; pairs--) {
      const key = this.#text();
      if (this.#keyIs(key, "v")) {
        version = this.#head() === 0 && this.#arg === TELEMETRY_BATCH_VERSION;
      } else if (this.#keyIs(key, "kind")) {
        const at = this.#text();
        kind = BATCH_KINDS.find((k) => this.#keyIs(at, k));
      } else if (this.#keyIs(key, "entity")) {
        this.#batchEntity();
      } else if (this.#keyIs(key, "records")) {
        // Last, as racks write it: transcoded where they stand, with no walk over them first to find the
        // message's end (a third pass over every record's bytes).
        if (pairs === 1 && version && kind !== undefined) return this.#recordsAt(kind, true);
        recordsAt = this.#at;
        this.#skip(0);
      } else this.#skip(0);
    }
    if (!version || kind === undefined || recordsAt < 0 || this.#at !== this.#b.length) throw SURPRISE;
    this.#at = recordsAt;
    return this.#recordsAt(kind, false);
  }

  /** The records array here; `last`: it must end the message. */
  #recordsAt(kind: BatchKind, last: boolean): TranscodedBatch {
    if (this.#head() !== 4 || this.#arg === 0) throw SURPRISE;
    const batch = this.#records(kind, this.#arg);
    if (last && this.#at !== this.#b.length) throw SURPRISE;
    return batch;
  }

  #records(kind: BatchKind, count: number): TranscodedBatch {
    const plan = PLANS.get(kind) as KindPlan;
    const rows: StoredRow[] = [];
    const others: TranscodedBatch["others"] = [];
    for (let index = 0; index < count; index++) {
      const start = this.#at;
      this.#lineStart = this.#len;
      try {
        const row = this.#record(plan);
        // A view taken once the row is whole: its block never grows (a row outgrowing it moves to a new one).
        row.line = this.#out.subarray(this.#lineStart, this.#len);
        rows.push(row);
        this.#lineStart = this.#len;
      } catch (error) {
        if (error !== SURPRISE) throw error;
        // Not for the fast path: give the record's own bytes to the schema (a record that cannot even be
        // skipped makes the whole message go the slow way).
        this.#len = this.#lineStart;
        this.#at = start;
        this.#skip(0);
        others.push({ index, cbor: this.#b.subarray(start, this.#at) });
      }
    }
    const flux = this.#fluxRange();
    if (flux) for (const row of rows) row.flux = flux;
    return { kind, entity: this.#entity, rows, others };
  }

  /** Reads the batch's `entity: {id, name}`; one the schema would refuse leaves the message to it. */
  #batchEntity(): void {
    if (this.#head() !== 5 || this.#arg !== 2) throw SURPRISE;
    for (let pairs = 2; pairs > 0; pairs--) {
      const key = this.#text();
      const at = this.#at;
      if (this.#keyIs(key, "id") && this.#entityIdAt < 0) this.#entityIdAt = at;
      else if (this.#keyIs(key, "name") && this.#entityNameAt < 0) this.#entityNameAt = at;
      else throw SURPRISE;
      this.#text();
    }
    const end = this.#at;
    const entity = batchEntitySchema.safeParse({
      id: this.#stringAt(this.#entityIdAt),
      name: this.#stringAt(this.#entityNameAt),
    });
    if (!entity.success) throw SURPRISE;
    this.#entity = entity.data;
    this.#at = end;
  }

  /** Widens the message's flux range to the 16 bytes of a flux id just written at `at`. */
  #seeFlux(at: number): void {
    const out = this.#out;
    if (!this.#fluxSeen) {
      this.#fluxSeen = true;
      this.#fluxMin.set(out.subarray(at, at + 16));
      this.#fluxMax.set(out.subarray(at, at + 16));
      return;
    }
    // UUID bytes compare as their lower-case text does.
    if (compare16(out, at, this.#fluxMin) < 0) this.#fluxMin.set(out.subarray(at, at + 16));
    else if (compare16(out, at, this.#fluxMax) > 0) this.#fluxMax.set(out.subarray(at, at + 16));
  }

  /** The message's flux range as text, made once for all its rows; null when none carried a flux id. */
  #fluxRange(): FluxRange | null {
    if (!this.#fluxSeen) return null;
    return { min: uuidText(this.#fluxMin, 0), max: uuidText(this.#fluxMax, 0) };
  }

  /** Reads one record and writes its line; throws SURPRISE at anything not for the fast path. */
  #record(plan: KindPlan): StoredRow {
    if (this.#head() !== 5) throw SURPRISE;
    if (this.#fields.length !== plan.keys.length) this.#fields = new Int32Array(plan.keys.length);
    const fields = this.#fields;
    fields.fill(-1);
    let field = -1;
    for (let pairs = this.#arg; pairs > 0; pairs--) {
      const key = this.#text();
      field = this.#field(plan, key, field);
      if (field >= 0) {
        if (fields[field] !== -1) throw SURPRISE; // a repeated key: the decoder keeps the last one
        fields[field] = this.#at;
      }
      this.#skip(0);
    }
    const end = this.#at;
    if (this.#entityIdAt >= 0 && fields[plan.entityId] === -1 && fields[plan.entityName] === -1) {
      // Neither entity field: the record takes the batch's (its text items, read as the record's would be).
      fields[plan.entityId] = this.#entityIdAt;
      fields[plan.entityName] = this.#entityNameAt;
    }
    const ts = this.#epochAt(fields[plan.ts] as number);
    if (ts < this.#checks.oldest || ts > this.#checks.newest) throw SURPRISE;
    this.#checkEntity(fields[plan.entityId] as number, fields[plan.entityName] as number);
    const spec = plan.spec < 0 ? null : this.#stringAt(fields[plan.spec] as number);
    // Offsets within the row are kept from its start: writing a cell may move the row to a new block.
    let fluxCell = -1;
    for (const column of plan.columns) {
      this.#reserve(4);
      const cell = this.#len - this.#lineStart;
      this.#len += 4;
      const written = this.#cell(
        plan.rules[column] as FieldRule,
        fields[column] as number,
        plan.float32[column] === 1,
      );
      const at = this.#lineStart + cell;
      writeUint32(this.#out, at, written ? this.#len - at - 4 : NULL_CELL);
      if (written && column === plan.fluxId) fluxCell = cell;
    }
    // Fields stored in no column (a metric's flux_id, a journal record's spec) are checked all the same.
    const lineBytes = this.#len - this.#lineStart;
    for (const unstored of plan.unstored)
      this.#cell(plan.rules[unstored] as FieldRule, fields[unstored] as number, false);
    this.#len = this.#lineStart + lineBytes;
    this.#at = end;
    // Taken: its flux id (if it has one) joins the message's range.
    if (fluxCell >= 0) this.#seeFlux(this.#lineStart + fluxCell + 4);
    return { ts, flux: null, spec, line: this.#out };
  }

  /**
   * The field a key names (-1 for a key the schema drops), trying first the one that followed `previous` last
   * time (a rack writes its fields in one order, not always the columns'), then each in turn.
   */
  #field(plan: KindPlan, key: number, previous: number): number {
    const slot = previous + 1; // previous is -1 before a record's first key
    const guess = plan.next[slot] as number;
    if (guess >= 0) {
      const name = plan.keys[guess] as Uint8Array;
      if (name.length === this.#arg && sameBytes(this.#b, key, name, 0, name.length)) return guess;
    }
    const count = plan.keys.length;
    for (let i = 0; i < count; i++) {
      const name = plan.keys[i] as Uint8Array;
      if (name.length === this.#arg && sameBytes(this.#b, key, name, 0, name.length)) {
        plan.next[slot] = i;
        return i;
      }
    }
    return -1;
  }

  /** Writes one cell's value for a field by its rule, from its value at `at` (-1: absent); false: NULL. */
  #cell(rule: FieldRule, at: number, float32: boolean): boolean {
    const absent = at < 0 || this.#b[at] === 0xf6;
    if (rule.type === "epoch") {
      const ms = this.#epochAt(at);
      this.#reserve(8);
      writeMicros(this.#out, this.#len, ms);
      this.#len += 8;
      return true;
    }
    if (absent) {
      // What the schema makes of a field absent or null: null (an empty cell), `{}`, or a refusal.
      switch (rule.type) {
        case "uuid":
        case "hex":
          if (!rule.optional) throw SURPRISE;
          return false;
        case "name":
        case "bytes":
          return false;
        case "object":
          if (rule.absent === "null") return false;
          if (at >= 0) throw SURPRISE;
          this.#ascii("{}");
          return true;
        default:
          throw SURPRISE;
      }
    }
    this.#at = at;
    switch (rule.type) {
      case "uuid": {
        const start = this.#text();
        if (this.#arg !== 36) throw SURPRISE;
        this.#reserve(16);
        const out = this.#out;
        const at = this.#len;
        if (!writeUuid(out, at, this.#b, start, true)) throw SURPRISE;
        // The schema's UUID: version 1-8, variant 8-b.
        const version = (out[at + 6] as number) >> 4;
        const variant = (out[at + 8] as number) >> 4;
        if (version < 1 || version > 8 || variant < 8 || variant > 0xb) throw SURPRISE;
        this.#len += 16;
        return true;
      }
      case "entity_name":
        this.#copy(this.#classText(2, 1, ENTITY_NAME_MAX), this.#arg);
        return true;
      case "hex":
        this.#copy(this.#classText(1, rule.length, rule.length), this.#arg);
        return true;
      case "name": {
        const start = this.#classText(4, 1, rule.max);
        if (this.#b[start] === 0x2d) throw SURPRISE; // NAME_PATTERN: not led by "-"
        this.#copy(start, this.#arg);
        return true;
      }
      case "enum": {
        const start = this.#text();
        let known = false;
        for (let i = 0; !known && i < rule.values.length; i++)
          known = this.#keyIs(start, rule.values[i] as string);
        if (!known) throw SURPRISE;
        this.#copy(start, this.#arg);
        return true;
      }
      case "text": {
        const start = this.#text();
        if (this.#arg < rule.min || this.#arg > rule.max) throw SURPRISE;
        this.#utf8(start, this.#arg, false);
        return true;
      }
      case "number": {
        const value = this.#number();
        if (value < rule.min || value > rule.max) throw SURPRISE;
        this.#reserve(8);
        if (float32) NUMBER.setFloat32(0, value, true);
        else NUMBER.setFloat64(0, value, true);
        const width = float32 ? 4 : 8;
        for (let i = 0; i < width; i++) this.#out[this.#len++] = NUMBER_BYTES[i] as number;
        return true;
      }
      case "object": {
        if ((this.#b[at] as number) >> 5 !== 5) throw SURPRISE;
        this.#json(0, rule.values === "text" ? 1 : 0);
        return true;
      }
      case "bytes": {
        if (this.#head() !== 2) throw SURPRISE;
        const start = this.#at;
        this.#at += this.#arg;
        if (this.#at > this.#b.length) throw SURPRISE;
        this.#copy(start, this.#arg);
        return true;
      }
    }
  }

  /** Reads text of `min` to `max` bytes, each of character class `mask` (see CHAR_CLASS); returns its start. */
  #classText(mask: number, min: number, max: number): number {
    const start = this.#text();
    const length = this.#arg;
    if (length < min || length > max) throw SURPRISE;
    for (let i = start; i < start + length; i++) {
      if (((CHAR_CLASS[this.#b[i] as number] as number) & mask) === 0) throw SURPRISE;
    }
    return start;
  }

  /**
   * Writes a map, array or scalar as JSON text (as JSON.stringify writes what the decoder makes of it).
   * `textOnly` > 0: the map's values must be text.
   */
  #json(depth: number, textOnly: number): void {
    const b = this.#b;
    const first = b[this.#at] as number;
    if (first === 0xfb) {
      this.#ascii(String(this.#number()));
      return;
    }
    if (first === 0xf4 || first === 0xf5 || first === 0xf6) {
      this.#at++;
      this.#ascii(first === 0xf4 ? "false" : first === 0xf5 ? "true" : "null");
      return;
    }
    const major = this.#head();
    const arg = this.#arg;
    if (major === 0 || major === 1) {
      this.#ascii(String(major === 0 ? arg : -1 - arg));
      return;
    }
    if (major === 3) {
      const start = this.#at;
      this.#at += arg;
      if (this.#at > b.length) throw SURPRISE;
      this.#byte(QUOTE);
      this.#utf8(start, arg, true);
      this.#byte(QUOTE);
      return;
    }
    if (depth >= MAX_DEPTH) throw SURPRISE;
    if (major === 4) {
      this.#byte(0x5b);
      for (let i = 0; i < arg; i++) {
        if (i > 0) this.#byte(COMMA);
        this.#json(depth + 1, 0);
      }
      this.#byte(0x5d);
      return;
    }
    if (major !== 5 || arg > MAX_KEYS) throw SURPRISE;
    this.#byte(0x7b);
    // Each key's start and length, to refuse a repeated one (the decoder keeps its first place, last value).
    const keys: number[] = [];
    for (let i = 0; i < arg; i++) {
      if (i > 0) this.#byte(COMMA);
      const key = this.#text();
      const length = this.#arg;
      // JS puts integer-like keys first, and the decoder renames __proto__: leave those to it.
      const lead = b[key] as number;
      if ((lead >= 0x30 && lead <= 0x39) || this.#keyIs(key, "__proto__")) throw SURPRISE;
      for (let k = 0; k < keys.length; k += 2) {
        if (keys[k + 1] === length && sameBytes(b, keys[k] as number, b, key, length)) throw SURPRISE;
      }
      keys.push(key, length);
      this.#byte(QUOTE);
      this.#utf8(key, length, true);
      this.#ascii('":');
      if (textOnly > 0 && b[this.#at] !== undefined && (b[this.#at] as number) >> 5 !== 3) throw SURPRISE;
      this.#json(depth + 1, 0);
    }
    this.#byte(0x7d);
  }

  /**
   * Copies `length` bytes of UTF-8 text from `start`, checked to be valid (what the decoder would change is
   * not taken); `json`: escaped as JSON.stringify escapes.
   */
  #utf8(start: number, length: number, json: boolean): void {
    const b = this.#b;
    const end = start + length;
    // A leading byte order mark is dropped by the decoder's TextDecoder.
    if (length >= 3 && b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf) throw SURPRISE;
    this.#reserve(length * 7);
    const out = this.#out;
    let o = this.#len;
    for (let i = start; i < end; ) {
      const c = b[i] as number;
      if (c < 0x80) {
        i++;
        if (c === QUOTE && json) {
          out[o++] = BACKSLASH;
          out[o++] = QUOTE;
        } else if (json && (c < 0x20 || c === BACKSLASH)) {
          out[o++] = BACKSLASH;
          const short = c === BACKSLASH ? BACKSLASH : SHORT_ESCAPE[c];
          if (short !== undefined) out[o++] = short;
          else {
            out[o++] = 0x75; // u00XX
            out[o++] = 0x30;
            out[o++] = 0x30;
            out[o++] = HEX[c >> 4] as number;
            out[o++] = HEX[c & 15] as number;
          }
        } else out[o++] = c;
        continue;
      }
      const size = utf8Sequence(b, i, end);
      for (let j = 0; j < size; j++) out[o++] = b[i + j] as number;
      i += size;
    }
    this.#len = o;
  }

  /** Reads an item's head: its major type and argument (indefinite lengths and 64-bit values past 2^53 are not taken). */
  #head(): number {
    const b = this.#b;
    let at = this.#at;
    if (at >= b.length) throw SURPRISE;
    const first = b[at++] as number;
    const info = first & 31;
    const major = first >> 5;
    if (info < 24) this.#arg = info;
    else if (info === 24) this.#arg = b[at++] as number;
    else if (info === 25) {
      this.#arg = this.#view.getUint16(at);
      at += 2;
    } else if (info === 26) {
      this.#arg = this.#view.getUint32(at);
      at += 4;
    } else if (info === 27) {
      const high = this.#view.getUint32(at);
      if (high > 0x1fffff) throw SURPRISE;
      this.#arg = high * 2 ** 32 + this.#view.getUint32(at + 4);
      at += 8;
    } else throw SURPRISE;
    if (at > b.length) throw SURPRISE;
    this.#at = at;
    return major;
  }

  /** Reads a text item; returns where its bytes start (its byte length is in #arg). */
  #text(): number {
    if (this.#head() !== 3) throw SURPRISE;
    const start = this.#at;
    this.#at += this.#arg;
    if (this.#at > this.#b.length) throw SURPRISE;
    return start;
  }

  /** Reads a number: an integer item or a float64 (finite); other floats are rounded by the decoder. */
  #number(): number {
    if (this.#b[this.#at] === 0xfb) {
      if (this.#at + 9 > this.#b.length) throw SURPRISE;
      const value = this.#view.getFloat64(this.#at + 1);
      this.#at += 9;
      if (!Number.isFinite(value)) throw SURPRISE;
      return value;
    }
    const major = this.#head();
    if (major === 0) return this.#arg;
    if (major === 1) return -1 - this.#arg;
    throw SURPRISE;
  }

  /** The epoch milliseconds at `at` (a required field). */
  #epochAt(at: number): number {
    if (at < 0) throw SURPRISE;
    this.#at = at;
    const value = this.#number();
    if (!Number.isInteger(value) || value < 0 || value > MAX_EPOCH_MS) throw SURPRISE;
    return value;
  }

  /** The text at `at` as a string, or null when absent or null (its rule checks it). */
  #stringAt(at: number): string | null {
    if (at < 0 || this.#b[at] === 0xf6) return null;
    this.#at = at;
    const start = this.#text();
    return decoder.decode(this.#b.subarray(start, start + this.#arg));
  }

  #checkEntity(idAt: number, nameAt: number): void {
    const allowed = this.#checks.entityAllowed;
    if (!allowed || idAt < 0 || nameAt < 0) return;
    this.#at = idAt;
    const id = this.#text();
    const idLength = this.#arg;
    this.#at = nameAt;
    const name = this.#text();
    const nameLength = this.#arg;
    const last = this.#allowed;
    if (last && last.length === idLength + nameLength + 1) {
      let same = last[idLength] === 0;
      for (let i = 0; same && i < idLength; i++) same = last[i] === this.#b[id + i];
      for (let i = 0; same && i < nameLength; i++) same = last[idLength + 1 + i] === this.#b[name + i];
      if (same) return;
    }
    const idText = decoder.decode(this.#b.subarray(id, id + idLength));
    const nameText = decoder.decode(this.#b.subarray(name, name + nameLength));
    if (!allowed(idText, nameText)) throw SURPRISE;
    const key = new Uint8Array(idLength + nameLength + 1);
    key.set(this.#b.subarray(id, id + idLength));
    key.set(this.#b.subarray(name, name + nameLength), idLength + 1);
    this.#allowed = key;
  }

  /** Skips one item whole, checking it is well formed; SURPRISE for what the fast path does not read. */
  #skip(depth: number): void {
    if (depth > MAX_DEPTH) throw SURPRISE;
    const first = this.#b[this.#at];
    if (first === undefined) throw SURPRISE;
    if (first >> 5 === 7) {
      const info = first & 31;
      this.#at +=
        info < 24 ? 1 : info === 24 ? 2 : info === 25 ? 3 : info === 26 ? 5 : info === 27 ? 9 : -1e9;
      if (this.#at < 0 || this.#at > this.#b.length) throw SURPRISE;
      return;
    }
    const major = this.#head();
    const arg = this.#arg;
    if (major === 2 || major === 3) {
      this.#at += arg;
      if (this.#at > this.#b.length) throw SURPRISE;
    } else if (major === 4) for (let i = 0; i < arg; i++) this.#skip(depth + 1);
    else if (major === 5) for (let i = 0; i < 2 * arg; i++) this.#skip(depth + 1);
    else if (major === 6) this.#skip(depth + 1);
  }

  /** Whether the text at `start` (of the length just read) is `expected` (ASCII). */
  #keyIs(start: number, expected: string): boolean {
    if (this.#arg !== expected.length) return false;
    for (let i = 0; i < expected.length; i++) {
      if (this.#b[start + i] !== expected.charCodeAt(i)) return false;
    }
    return true;
  }

  #copy(start: number, length: number): void {
    this.#reserve(length);
    const out = this.#out;
    const b = this.#b;
    let o = this.#len;
    // A short copy byte by byte; a long one (a raw_msg) at once.
    if (length < 64) for (let i = start; i < start + length; i++) out[o++] = b[i] as number;
    else {
      out.set(b.subarray(start, start + length), o);
      o += length;
    }
    this.#len = o;
  }

  #ascii(text: string): void {
    this.#reserve(text.length);
    for (let i = 0; i < text.length; i++) this.#out[this.#len++] = text.charCodeAt(i);
  }

  #byte(value: number): void {
    this.#reserve(1);
    this.#out[this.#len++] = value;
  }

  /**
   * Makes room for `bytes` more of the row being written: past its block's end, the row moves to the arena's
   * next block (a row bigger than a block to a buffer of its own, twice what it needs as it grows).
   */
  #reserve(bytes: number): void {
    if (this.#len + bytes <= this.#out.length) return;
    const written = this.#len - this.#lineStart;
    const needed = written + bytes;
    const moved = this.#arena.next(needed <= RowArena.BLOCK_BYTES ? needed : 2 * needed);
    moved.set(this.#out.subarray(this.#lineStart, this.#len));
    this.#out = moved;
    this.#lineStart = 0;
    this.#len = written;
  }
}

/** How the 16 bytes of `a` from `at` order against `b`'s: negative, 0 or positive. */
function compare16(a: Uint8Array, at: number, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) {
    const d = (a[at + i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether `length` bytes of `a` from `at` equal those of `c` from `cAt`. */
function sameBytes(a: Uint8Array, at: number, c: Uint8Array, cAt: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[at + i] !== c[cAt + i]) return false;
  return true;
}

/** The length of the valid UTF-8 sequence led by `b[i]` (≥ 0x80), or SURPRISE: no overlongs, surrogates or past U+10FFFF. */
function utf8Sequence(b: Uint8Array, i: number, end: number): number {
  const c = b[i] as number;
  const c1 = i + 1 < end ? (b[i + 1] as number) : -1;
  const cont = (k: number) => i + k < end && ((b[i + k] as number) & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) {
    if (cont(1)) return 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    const low = c === 0xe0 ? 0xa0 : 0x80;
    const high = c === 0xed ? 0x9f : 0xbf;
    if (c1 >= low && c1 <= high && cont(2)) return 3;
  } else if (c >= 0xf0 && c <= 0xf4) {
    const low = c === 0xf0 ? 0x90 : 0x80;
    const high = c === 0xf4 ? 0x8f : 0xbf;
    if (c1 >= low && c1 <= high && cont(2) && cont(3)) return 4;
  }
  throw SURPRISE;
}
