/**
 * ISO 8583-style frames, both ways, with nothing but a layout: a 4-digit ASCII MTI, a primary bitmap (and a
 * secondary one when bit 1 is set), then the data elements in field order, each fixed-length or with a 2-
 * (LLVAR) or 3-digit (LLLVAR) ASCII length prefix. Bitmaps are 8 binary bytes each, or 16 ASCII hex digits
 * (`bitmap: hex`). Values stay bytes here; typing them is the spec's business (spec-codec.ts).
 *
 * Errors name the field and the byte offset, never a value: a frame's content may be a card number.
 */

export type IsoLengthFormat = "fixed" | "llvar" | "lllvar";

/** One data element's layout: its length encoding and its length (exact for fixed, maximum otherwise). */
export interface IsoElementLayout {
  format: IsoLengthFormat;
  length: number;
}

export interface IsoLayout {
  bitmap: "binary" | "hex";
  /** By field number, 2 to 128. */
  elements: ReadonlyMap<number, IsoElementLayout>;
}

/** A frame: its MTI and its data elements' bytes by field number. */
export interface IsoFrame {
  mti: string;
  fields: Map<number, Uint8Array>;
}

/** Why a frame does not decode or encode: the field (`mti`, `bitmap`, `field 2`) and where. */
export class IsoFrameError extends Error {
  constructor(
    readonly field: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`${field} at offset ${offset}: ${detail}`);
  }
}

const PREFIX_DIGITS: Record<IsoLengthFormat, number> = { fixed: 0, llvar: 2, lllvar: 3 };
const ascii = new TextEncoder();

function isDigits(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes.every((b) => b >= 0x30 && b <= 0x39);
}

function readBitmap(bytes: Uint8Array, offset: number, hex: boolean, bitBase: number, bits: Set<number>) {
  const size = hex ? 16 : 8;
  if (offset + size > bytes.length)
    throw new IsoFrameError("bitmap", offset, `the frame ends before its ${size}-byte bitmap`);
  const slice = bytes.subarray(offset, offset + size);
  let octets: number[];
  if (hex) {
    const text = String.fromCharCode(...slice);
    if (!/^[0-9A-Fa-f]{16}$/.test(text))
      throw new IsoFrameError("bitmap", offset, "expected 16 hexadecimal digits");
    octets = Array.from({ length: 8 }, (_, i) => Number.parseInt(text.slice(i * 2, i * 2 + 2), 16));
  } else {
    octets = [...slice];
  }
  for (const [i, octet] of octets.entries()) {
    for (let bit = 0; bit < 8; bit++) if (octet & (0x80 >> bit)) bits.add(bitBase + i * 8 + bit + 1);
  }
  return offset + size;
}

/**
 * Decodes a frame; every field present in its bitmap must be in the layout (its length cannot be known
 * otherwise), and nothing may follow the last field.
 *
 * @example decodeIso8583(layout, bytes).fields.get(4) // the amount's 12 ASCII digits
 */
export function decodeIso8583(layout: IsoLayout, bytes: Uint8Array): IsoFrame {
  if (bytes.length < 4 || !isDigits(bytes.subarray(0, 4)))
    throw new IsoFrameError("mti", 0, "expected 4 ASCII digits");
  const mti = String.fromCharCode(...bytes.subarray(0, 4));
  const hex = layout.bitmap === "hex";
  const bits = new Set<number>();
  let offset = readBitmap(bytes, 4, hex, 0, bits);
  if (bits.has(1)) offset = readBitmap(bytes, offset, hex, 64, bits);
  const fields = new Map<number, Uint8Array>();
  for (const field of [...bits].filter((b) => b !== 1).sort((a, b) => a - b)) {
    const element = layout.elements.get(field);
    const name = `field ${field}`;
    if (!element) throw new IsoFrameError(name, offset, "present in the bitmap but not in the spec's layout");
    let length = element.length;
    const digits = PREFIX_DIGITS[element.format];
    if (digits > 0) {
      const prefix = bytes.subarray(offset, offset + digits);
      if (prefix.length < digits || !isDigits(prefix))
        throw new IsoFrameError(
          name,
          offset,
          `expected a ${digits}-digit ${element.format.toUpperCase()} length`,
        );
      length = Number(String.fromCharCode(...prefix));
      if (length > element.length)
        throw new IsoFrameError(name, offset, `length ${length} is over the layout's ${element.length}`);
      offset += digits;
    }
    if (offset + length > bytes.length) {
      throw new IsoFrameError(
        name,
        offset,
        `the frame ends after ${bytes.length - offset} of its ${length} bytes`,
      );
    }
    fields.set(field, bytes.slice(offset, offset + length));
    offset += length;
  }
  if (offset !== bytes.length)
    throw new IsoFrameError("frame", offset, `${bytes.length - offset} bytes follow the last field`);
  return { mti, fields };
}

/**
 * Encodes a frame: a secondary bitmap when a field above 64 is present. Throws naming a field that the
 * layout lacks or whose length does not fit.
 *
 * @example encodeIso8583(layout, { mti: "0110", fields: new Map([[39, ascii("00")]]) })
 */
export function encodeIso8583(layout: IsoLayout, frame: IsoFrame): Uint8Array<ArrayBuffer> {
  if (!/^\d{4}$/.test(frame.mti)) throw new IsoFrameError("mti", 0, "expected 4 ASCII digits");
  const numbers = [...frame.fields.keys()].sort((a, b) => a - b);
  const secondary = numbers.some((n) => n > 64);
  const bitmap = new Uint8Array(secondary ? 16 : 8);
  if (secondary) bitmap[0] = 0x80;
  const parts: Uint8Array[] = [];
  for (const field of numbers) {
    const element = layout.elements.get(field);
    const name = `field ${field}`;
    if (!element || field < 2 || field > 128) throw new IsoFrameError(name, 0, "not in the spec's layout");
    const value = frame.fields.get(field) as Uint8Array;
    const fits =
      element.format === "fixed" ? value.length === element.length : value.length <= element.length;
    if (!fits) {
      throw new IsoFrameError(
        name,
        0,
        `${value.length} bytes where the layout takes ${element.format === "fixed" ? "exactly" : "at most"} ${element.length}`,
      );
    }
    const index = field - 1;
    bitmap[index >> 3] = (bitmap[index >> 3] as number) | (0x80 >> (index & 7));
    const digits = PREFIX_DIGITS[element.format];
    if (digits > 0) parts.push(ascii.encode(String(value.length).padStart(digits, "0")));
    parts.push(value);
  }
  const bitmaps =
    layout.bitmap === "hex"
      ? ascii.encode(Array.from(bitmap, (b) => b.toString(16).padStart(2, "0").toUpperCase()).join(""))
      : bitmap;
  return concat([ascii.encode(frame.mti), bitmaps, ...parts]);
}

/** Byte arrays one after another. */
export function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
