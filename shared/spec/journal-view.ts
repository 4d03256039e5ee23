import type { FluxData, FluxMsg } from "../fluxmsg/message.ts";
import { toHex } from "../passport/encoding.ts";
import { readPath, writePath } from "./data-path.ts";
import { hmacSha256 } from "./hmac-sha256.ts";
import type { FluxSpec, SpecField } from "./model.ts";
import { compileSpec, decodeIsoFrame, decodeWithSpec, encodeIsoFrame } from "./spec-codec.ts";

/** Hex characters a `hash` mask keeps in `data` and `promoted`: 128 bits of the HMAC. */
export const HASH_HEX_LENGTH = 32;

/** A spec asks for `mask: hash` and no key was given: nothing is returned rather than something unmasked. */
export class SpecMaskError extends Error {}

/**
 * `pan`: the first 6 and last 4 characters kept, the others `*`; a value shorter than 13 (no real card
 * number is) is all `*`, since 10 kept characters would be most of it.
 *
 * @example maskPan("4111111111111111") // "411111******1111"
 */
export function maskPan(text: string): string {
  if (text.length < 13) return "*".repeat(text.length);
  return `${text.slice(0, 6)}${"*".repeat(text.length - 10)}${text.slice(-4)}`;
}

/** HMAC-SHA256 of the value under the key, as hex, `length` characters (repeating the digest past 64). */
function hashText(key: Uint8Array, text: string, length: number): string {
  const hex = toHex(hmacSha256(key, new TextEncoder().encode(text)));
  return hex.repeat(Math.ceil(length / hex.length)).slice(0, length);
}

/** A value as its field's mask leaves it in `data` and `promoted` (undefined: dropped). */
function maskValue(field: SpecField, value: unknown, key: Uint8Array | undefined): unknown {
  if (value === undefined || !field.mask) return value;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (field.mask === "pan") return maskPan(text);
  if (field.mask === "hash") return hashText(key as Uint8Array, text, HASH_HEX_LENGTH);
  return undefined;
}

/** A slot's bytes masked in place: same length (ISO `drop` is done by leaving the element out). */
function maskBytes(field: SpecField, bytes: Uint8Array, key: Uint8Array | undefined): Uint8Array {
  const text = String.fromCharCode(...bytes);
  if (field.mask === "pan") return Uint8Array.from(maskPan(text), (c) => c.charCodeAt(0));
  if (field.mask === "hash") {
    const digest = field.type === "binary" ? toHex(bytes) : text;
    const hex = hashText(
      key as Uint8Array,
      digest,
      field.type === "binary" ? bytes.length * 2 : bytes.length,
    );
    return field.type === "binary"
      ? Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16))
      : Uint8Array.from(hex, (c) => c.charCodeAt(0));
  }
  return new Uint8Array(bytes.length).fill(0x20);
}

/** `raw` with every masked field masked, or undefined when it does not decode with the spec (it is dropped). */
function maskRaw(
  spec: FluxSpec,
  raw: Uint8Array<ArrayBuffer>,
  key: Uint8Array | undefined,
): Uint8Array<ArrayBuffer> | undefined {
  const compiled = compileSpec(spec);
  try {
    if (spec.format.kind === "json") {
      let data: unknown = decodeWithSpec(spec, raw).data;
      for (const { field, path } of compiled.fields) {
        if (field.mask) data = writePath(data, path, maskValue(field, readPath(data, path), key));
      }
      return new TextEncoder().encode(JSON.stringify(data));
    }
    if (compiled.iso) {
      const frame = decodeIsoFrame(compiled, raw);
      for (const [number, bytes] of [...frame.fields]) {
        const field = compiled.byElement.get(number)?.field;
        if (!field?.mask) continue;
        if (field.mask === "drop") frame.fields.delete(number);
        else frame.fields.set(number, maskBytes(field, bytes, key));
      }
      return encodeIsoFrame(compiled, frame);
    }
    decodeWithSpec(spec, raw);
    const masked = raw.slice();
    for (const { field } of compiled.fields) {
      if (!field.mask || field.offset === undefined || field.length === undefined) continue;
      const slot = masked.subarray(field.offset, field.offset + field.length);
      slot.set(maskBytes(field, slot, key));
    }
    return masked;
  } catch {
    return undefined;
  }
}

/**
 * What the journal may keep of a message described by a spec: the message with every masked field masked in
 * `data` and in `raw` (ISO 8583 re-encoded with the masked values at the same lengths, `drop`ped elements
 * left out; a fixed frame masked in place; JSON re-serialised), and the `promote: true` fields, masked,
 * read from `data` or else from `raw`. A `raw` that does not decode with a spec that masks anything cannot
 * be checked, so it is left out and `meta.spec_raw` says why. Nothing returned holds a masked field in clear.
 * Throws a {@link SpecMaskError} when the spec masks with `hash` and no key is given.
 *
 * @example
 * const { msg: kept, promoted } = journalView(visa, msg);
 * // promoted: { pan: "411111******1111", amount: 1500, stan: "000123", … }
 */
export function journalView(
  spec: FluxSpec,
  msg: FluxMsg,
  hashKey?: Uint8Array,
): { msg: FluxMsg; promoted: Record<string, unknown> } {
  const compiled = compileSpec(spec);
  const masked = compiled.fields.filter(({ field }) => field.mask);
  if (!hashKey && masked.some(({ field }) => field.mask === "hash")) {
    throw new SpecMaskError(
      `spec ${spec.spec.id} masks with hash and no key was given (the rack secret ${spec.spec.hash_key ?? "named by spec.hash_key"})`,
    );
  }
  let data: unknown = msg.data;
  if (data !== null && typeof data === "object") {
    for (const { field, path } of masked) {
      const value = readPath(data, path);
      if (value !== undefined) data = writePath(data, path, maskValue(field, value, hashKey));
    }
  }
  const out: FluxMsg = { ...msg, data: data as FluxData };
  let fromRaw: unknown;
  if (msg.raw) {
    const raw = masked.length === 0 ? msg.raw : maskRaw(spec, msg.raw, hashKey);
    if (raw) out.raw = raw;
    else {
      delete out.raw;
      out.meta = { ...msg.meta, spec_raw: `dropped: it does not decode with spec ${spec.spec.id}` };
    }
    try {
      fromRaw = decodeWithSpec(spec, msg.raw).data;
    } catch {
      fromRaw = undefined;
    }
  }
  const promoted: Record<string, unknown> = {};
  for (const { field, path } of compiled.fields) {
    if (!field.promote) continue;
    // `data` is masked already; a value only in `raw` is masked here, the same way.
    const inData = readPath(data, path);
    const value = inData !== undefined ? inData : maskValue(field, readPath(fromRaw, path), hashKey);
    if (value !== undefined) promoted[field.name] = value;
  }
  return { msg: out, promoted };
}
