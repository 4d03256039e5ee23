import type { ColumnType } from "../parquet-schema.ts";
import { writeUint32 } from "../utf8-sink.ts";

/**
 * The bytes of Parquet PLAIN values for the fixed-width stored types, as row cells hold them (stored-row.ts):
 * both ways of making rows (encode-rows.ts from records, transcode-cbor.ts from CBOR) write them here, so a
 * flush copies them without parsing.
 */

/** The width of a type's PLAIN value in a cell: 0 for the byte arrays (text, JSON, ENUM, BLOB). */
export function plainWidth(type: ColumnType): number {
  switch (type) {
    case "TIMESTAMP":
    case "BIGINT":
    case "DOUBLE":
      return 8;
    case "UUID":
      return 16;
    case "FLOAT":
      return 4;
    default:
      return 0;
  }
}

const TWO_32 = 4_294_967_296;

/**
 * Writes epoch ms (a whole number in [0, MAX_EPOCH_MS]) as INT64 microseconds, little-endian: DuckDB's
 * TIMESTAMP. `ms * 1000` is not exact past 2^53 µs (the year 2255), so the product is formed per 32-bit word.
 */
export function writeMicros(out: Uint8Array, at: number, ms: number): void {
  const msLow = ms % TWO_32;
  const low = msLow * 1000;
  const lowWord = low % TWO_32;
  writeUint32(out, at, lowWord);
  writeUint32(out, at + 4, ((ms - msLow) / TWO_32) * 1000 + (low - lowWord) / TWO_32);
}

/** Per byte, its hex digit's value (-1: not one); LOWER_HEX takes lowercase digits only. */
const LOWER_HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) LOWER_HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) LOWER_HEX[0x61 + i] = 10 + i;
const HEX = LOWER_HEX.slice();
for (let i = 0; i < 6; i++) HEX[0x41 + i] = 10 + i;

/**
 * Writes the 16 bytes of a UUID whose canonical text (8-4-4-4-12 hex digits; `lowercase`: lowercase digits only)
 * is the 36 bytes at `text[start]`; false, with nothing meaningful written, when they are not one.
 */
export function writeUuid(
  out: Uint8Array,
  at: number,
  text: Uint8Array,
  start: number,
  lowercase = false,
): boolean {
  if (text[start + 8] !== 0x2d || text[start + 13] !== 0x2d || text[start + 18] !== 0x2d) return false;
  if (text[start + 23] !== 0x2d) return false;
  const digits = lowercase ? LOWER_HEX : HEX;
  let o = at;
  let bad = 0;
  for (let i = start; i < start + 36; i += 2) {
    const offset = i - start;
    if (offset === 8 || offset === 13 || offset === 18 || offset === 23) i++;
    const high = digits[text[i] as number] as number;
    const low = digits[text[i + 1] as number] as number;
    bad |= high | low; // negative when either is not a hex digit
    out[o++] = ((high << 4) | low) & 0xff;
  }
  return bad >= 0;
}

const HEX_DIGITS = "0123456789abcdef";

/**
 * The canonical lower-case text of the 16 UUID bytes at `bytes[at]` (as writeUuid reads it).
 *
 * @example uuidText(cell, 4) // "0190a0b0-1c2d-7e3f-8a4b-000000000001"
 */
export function uuidText(bytes: Uint8Array, at: number): string {
  let text = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text += "-";
    const byte = bytes[at + i] as number;
    text += (HEX_DIGITS[byte >> 4] as string) + (HEX_DIGITS[byte & 15] as string);
  }
  return text;
}

const encoder = new TextEncoder();
const scratch = new ArrayBuffer(8);
const scratchView = new DataView(scratch);

/**
 * A record's value as the cell bytes of its fixed-width column type (see plainWidth). Throws, naming the column,
 * at a value the type cannot hold (records reach here validated, so never in use).
 *
 * @example plainValue("value", "DOUBLE", 1.5) // Uint8Array(8) of the float64
 */
export function plainValue(name: string, type: ColumnType, value: unknown): Uint8Array {
  const width = plainWidth(type);
  if (width === 0) throw new TypeError(`column ${name}: ${String(type)} is not a fixed-width type`);
  const bytes = new Uint8Array(width);
  if (type === "TIMESTAMP") {
    if (!Number.isSafeInteger(value) || (value as number) < 0) {
      throw new RangeError(`column ${name}: ${String(value)} is not epoch milliseconds`);
    }
    writeMicros(bytes, 0, value as number);
  } else if (type === "UUID") {
    const text = encoder.encode(String(value));
    if (text.length !== 36 || !writeUuid(bytes, 0, text, 0)) {
      throw new RangeError(`column ${name}: "${String(value)}" is not a UUID`);
    }
  } else if (type === "BIGINT") {
    scratchView.setBigInt64(0, BigInt(value as number | bigint), true);
    bytes.set(new Uint8Array(scratch));
  } else {
    if (typeof value !== "number") throw new TypeError(`column ${name}: ${String(value)} is not a number`);
    if (type === "FLOAT") scratchView.setFloat32(0, value, true);
    else scratchView.setFloat64(0, value, true);
    bytes.set(new Uint8Array(scratch, 0, width));
  }
  return bytes;
}
