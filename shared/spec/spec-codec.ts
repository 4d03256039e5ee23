import { toHex } from "../passport/encoding.ts";
import { readPath, writePath } from "./data-path.ts";
import {
  concat,
  decodeIso8583,
  encodeIso8583,
  type IsoElementLayout,
  type IsoFrame,
  IsoFrameError,
  type IsoLayout,
} from "./iso8583.ts";
import { type FluxSpec, fieldDataPath, type SpecField } from "./model.ts";

/**
 * A spec's raw format both ways: `raw` bytes to typed fields in `data` (and the message's `type`), and back.
 * Text is one byte per character (Latin-1); text in fixed-length slots is padded with spaces on the right
 * (trimmed on decode), numbers with zeros on the left; a slot of spaces only is an absent field.
 */

/** Why a frame does not decode or encode with a spec: the field (by name, and ISO number) and the offset. */
export class SpecCodecError extends Error {
  constructor(
    message: string,
    readonly field: string,
    readonly offset: number | undefined,
  ) {
    super(message);
  }
}

export interface Decoded {
  data: Record<string, unknown>;
  type: string;
}

const utf8 = new TextEncoder();
const SPACE = 0x20;

/** A field with where it goes, split once per spec. */
interface CompiledField {
  field: SpecField;
  path: string[];
}

interface Compiled {
  fields: CompiledField[];
  iso: IsoLayout | undefined;
  /** ISO field number → spec field. */
  byElement: Map<number, CompiledField>;
  mti: CompiledField | undefined;
  /** Bytes a `fixed` frame needs at least. */
  fixedLength: number;
}

const compiledSpecs = new WeakMap<FluxSpec, Compiled>();

export function compileSpec(spec: FluxSpec): Compiled {
  let compiled = compiledSpecs.get(spec);
  if (compiled) return compiled;
  const fields = spec.fields.map((field) => ({ field, path: fieldDataPath(field).split(".") }));
  const byElement = new Map<number, CompiledField>();
  const elements = new Map<number, IsoElementLayout>();
  let mti: CompiledField | undefined;
  for (const compiledField of fields) {
    const location = compiledField.field.iso8583;
    if (!location) continue;
    if (location.field === "mti") mti = compiledField;
    else {
      byElement.set(location.field, compiledField);
      elements.set(location.field, { format: location.format, length: location.length });
    }
  }
  compiled = {
    fields,
    iso: spec.format.kind === "iso8583" ? { bitmap: spec.format.bitmap, elements } : undefined,
    byElement,
    mti,
    fixedLength: Math.max(0, ...spec.fields.map((f) => (f.offset ?? 0) + (f.length ?? 0))),
  };
  compiledSpecs.set(spec, compiled);
  return compiled;
}

function fieldLabel(field: SpecField): string {
  const iso = field.iso8583;
  if (!iso) return field.name;
  return iso.field === "mti" ? `${field.name} (MTI)` : `${field.name} (field ${iso.field})`;
}

/** Typed value of one slot's bytes. */
function slotValue(field: SpecField, bytes: Uint8Array, padded: boolean, offset?: number): unknown {
  if (field.type === "binary") return toHex(bytes);
  let text = String.fromCharCode(...bytes);
  if (padded) text = text.replace(/ +$/, "");
  if (field.type === "string") return text;
  if (!/^\d+$/.test(text))
    throw new SpecCodecError(`${fieldLabel(field)}${at(offset)}: expected digits`, field.name, offset);
  const whole = Number(text);
  if (!Number.isSafeInteger(whole))
    throw new SpecCodecError(`${fieldLabel(field)}${at(offset)}: number too large`, field.name, offset);
  return field.type === "decimal" ? whole / 10 ** (field.scale ?? 0) : whole;
}

const at = (offset: number | undefined) => (offset === undefined ? "" : ` at offset ${offset}`);

/** One value as slot bytes: `exact` slots are padded to `length`, others may be shorter. */
function bytesOf(field: SpecField, value: unknown, length: number, exact: boolean): Uint8Array {
  const refuse = (detail: string) =>
    new SpecCodecError(`${fieldLabel(field)}: ${detail}`, field.name, undefined);
  let bytes: Uint8Array;
  let numeric = false;
  if (field.type === "binary") {
    if (typeof value !== "string" || !/^([0-9a-fA-F]{2})*$/.test(value))
      throw refuse("expected hexadecimal text");
    bytes = Uint8Array.from(value.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
  } else if (field.type === "string") {
    const text = typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
    if (text === undefined) throw refuse(`expected text, got ${typeof value}`);
    if ([...text].some((c) => c.charCodeAt(0) > 0xff)) throw refuse("text beyond Latin-1");
    bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  } else {
    const scaled = typeof value === "number" ? Math.round(value * 10 ** (field.scale ?? 0)) : Number.NaN;
    if (!Number.isSafeInteger(scaled) || scaled < 0) throw refuse("expected a number of at least 0");
    bytes = utf8.encode(String(scaled));
    numeric = true;
  }
  if (bytes.length > length) throw refuse(`${bytes.length} bytes where the slot holds ${length}`);
  if (!exact || bytes.length === length) return bytes;
  if (field.type === "binary") throw refuse(`${bytes.length} bytes where the slot takes exactly ${length}`);
  const out = new Uint8Array(length).fill(numeric ? 0x30 : SPACE);
  out.set(bytes, numeric ? length - bytes.length : 0);
  return out;
}

function typeOf(spec: FluxSpec, data: unknown): string {
  const rule = spec.msg_type;
  if ("fixed" in rule) return rule.fixed;
  const field = spec.fields.find((f) => f.name === rule.field) as SpecField;
  const value = readPath(data, fieldDataPath(field).split("."));
  if (value === undefined || value === null)
    throw new SpecCodecError(
      `${fieldLabel(field)}: missing, and msg_type is read from it`,
      field.name,
      undefined,
    );
  const text = String(value);
  if (rule.map) {
    const mapped = rule.map[text];
    if (mapped === undefined) {
      throw new SpecCodecError(
        `${fieldLabel(field)}: value not in msg_type.map (${Object.keys(rule.map).join(", ")})`,
        field.name,
        undefined,
      );
    }
    return mapped;
  }
  return `${rule.prefix ?? ""}${text}`;
}

/**
 * Decodes `raw` with a spec: the fields it holds, each at its `data` path, and the message type by the spec's
 * rule. Throws a {@link SpecCodecError} naming the field and the offset.
 *
 * @example const { data, type } = decodeWithSpec(visa, msg.raw);
 */
export function decodeWithSpec(spec: FluxSpec, raw: Uint8Array): Decoded {
  const compiled = compileSpec(spec);
  let data: unknown = {};
  if (spec.format.kind === "json") {
    try {
      data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
    } catch (cause) {
      throw new SpecCodecError(`raw is not JSON text: ${(cause as Error).message}`, "raw", undefined);
    }
    if (data === null || typeof data !== "object" || Array.isArray(data))
      throw new SpecCodecError("raw is not a JSON object", "raw", 0);
  } else if (compiled.iso) {
    const frame = decodeIsoFrame(compiled, raw);
    if (compiled.mti)
      data = writePath(
        data,
        compiled.mti.path,
        slotValue(compiled.mti.field, utf8.encode(frame.mti), false, 0),
      );
    for (const [number, bytes] of frame.fields) {
      const target = compiled.byElement.get(number) as CompiledField;
      const fixed = target.field.iso8583?.field !== "mti" && target.field.iso8583?.format === "fixed";
      data = writePath(data, target.path, slotValue(target.field, bytes, fixed));
    }
  } else {
    if (raw.length < compiled.fixedLength) {
      throw new SpecCodecError(
        `raw: ${raw.length} bytes where the spec's fields take ${compiled.fixedLength}`,
        "raw",
        raw.length,
      );
    }
    for (const { field, path } of compiled.fields) {
      if (field.offset === undefined || field.length === undefined) continue;
      const bytes = raw.subarray(field.offset, field.offset + field.length);
      if (bytes.every((b) => b === SPACE)) continue;
      data = writePath(data, path, slotValue(field, bytes, true, field.offset));
    }
  }
  return { data: data as Record<string, unknown>, type: typeOf(spec, data) };
}

/** The ISO frame of `raw`, its errors told by spec field name. */
export function decodeIsoFrame(compiled: Compiled, raw: Uint8Array): IsoFrame {
  try {
    return decodeIso8583(compiled.iso as IsoLayout, raw);
  } catch (error) {
    throw isoError(compiled, error);
  }
}

export function encodeIsoFrame(compiled: Compiled, frame: IsoFrame): Uint8Array<ArrayBuffer> {
  try {
    return encodeIso8583(compiled.iso as IsoLayout, frame);
  } catch (error) {
    throw isoError(compiled, error);
  }
}

function isoError(compiled: Compiled, error: unknown): unknown {
  if (!(error instanceof IsoFrameError)) return error;
  const number = Number(error.field.replace("field ", ""));
  const named = compiled.byElement.get(number)?.field.name;
  const label = named ? `${named} (${error.field})` : error.field;
  return new SpecCodecError(error.message.replace(error.field, label), named ?? error.field, error.offset);
}

/**
 * Encodes `data` with a spec into `raw` (the reverse of {@link decodeWithSpec}), with the message type.
 * Fields absent from `data` are left out (ISO) or blank (fixed).
 *
 * @example const { raw, type } = encodeWithSpec(visa, { mti: "0110", stan: "000123", response_code: "00" });
 */
export function encodeWithSpec(
  spec: FluxSpec,
  data: unknown,
): { raw: Uint8Array<ArrayBuffer>; type: string } {
  const compiled = compileSpec(spec);
  const type = typeOf(spec, data);
  if (spec.format.kind === "json") return { raw: utf8.encode(JSON.stringify(data)), type };
  if (compiled.iso) {
    const mti = compiled.mti ? readPath(data, compiled.mti.path) : undefined;
    if (typeof mti !== "string" || !/^\d{4}$/.test(mti))
      throw new SpecCodecError(`${compiled.mti?.field.name ?? "mti"} (MTI): expected 4 digits`, "mti", 0);
    const fields = new Map<number, Uint8Array>();
    for (const [number, { field, path }] of compiled.byElement) {
      const value = readPath(data, path);
      const location = field.iso8583;
      if (value === undefined || value === null || !location || location.field === "mti") continue;
      fields.set(number, bytesOf(field, value, location.length, location.format === "fixed"));
    }
    return { raw: encodeIsoFrame(compiled, { mti, fields }), type };
  }
  const raw = new Uint8Array(compiled.fixedLength).fill(SPACE);
  for (const { field, path } of compiled.fields) {
    const value = readPath(data, path);
    if (field.offset === undefined || field.length === undefined || value === undefined || value === null)
      continue;
    raw.set(bytesOf(field, value, field.length, true), field.offset);
  }
  return { raw: concat([raw]), type };
}
