import * as z from "zod";

/** Bytes as text for keys, fingerprints and proofs, with Web APIs only (no Buffer: this also runs in workerd). */

/** @example toHex(new Uint8Array([1, 255])) // "01ff" */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/**
 * Standard base64 with padding, built in chunks so a large payload does not overflow the stack.
 *
 * @example toBase64(new Uint8Array([251, 255])) // "+/8="
 */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let at = 0; at < bytes.length; at += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return btoa(binary);
}

/** @example toBase64Url(new Uint8Array([251, 255])) // "-_8" */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Decodes base64url (or plain base64); throws on anything else.
 *
 * @example fromBase64Url("-_8") // Uint8Array [251, 255]
 */
export function fromBase64Url(text: string): Bytes {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw new Error("not base64url text");
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Bytes that WebCrypto accepts as they are (TypeScript's typed arrays may also sit on shared memory). */
export type Bytes = Uint8Array<ArrayBuffer>;

/**
 * A CBOR byte string field, optionally of an exact length. Decoders hand back their own Uint8Array
 * subclass (Node's Buffer, a view into the whole message); parsing yields a plain copy of just those bytes.
 *
 * @example z.object({ identity_key: byteString(32) })
 */
export const byteString = (length?: number) =>
  z
    .custom<Uint8Array>((value) => value instanceof Uint8Array, { message: "expected bytes" })
    .refine((b) => length === undefined || b.length === length, { message: `expected ${length} bytes` })
    .transform((b): Bytes => new Uint8Array(b));
