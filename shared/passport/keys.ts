import { type Bytes, fromBase64Url, toHex } from "./encoding.ts";

/**
 * Key pairs with WebCrypto, the same code in Node 20 and workerd. Ed25519 signs (the mixer's cluster key,
 * a rack's identity key); X25519 seals secrets to a rack (WebCrypto cannot encrypt with an Ed25519 key, so
 * a rack holds one pair of each).
 */
export const SIGNING_ALGORITHM = { name: "Ed25519" } as const;
export const SEALING_ALGORITHM = { name: "X25519" } as const;
type Algorithm = typeof SIGNING_ALGORITHM | typeof SEALING_ALGORITHM;

/** A key pair with its raw 32-byte public key at hand (what travels on the wire and gets fingerprinted). */
export interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicRaw: Bytes;
}

const usages = (algorithm: Algorithm, part: "private" | "public"): KeyUsage[] =>
  algorithm.name === "Ed25519"
    ? [part === "private" ? "sign" : "verify"]
    : part === "private"
      ? ["deriveBits"]
      : [];

/**
 * The fingerprint operators compare and pin: `SHA256:` and the hex SHA-256 of the raw public key.
 *
 * @example await keyFingerprint(pair.publicRaw) // "SHA256:9f86d081…"
 */
export async function keyFingerprint(publicRaw: Bytes): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", publicRaw);
  return `SHA256:${toHex(new Uint8Array(digest))}`;
}

/**
 * A new extractable key pair, to be saved with {@link exportPrivateJwk}.
 *
 * @example const identity = await generateKeyPair(SIGNING_ALGORITHM);
 */
export async function generateKeyPair(algorithm: Algorithm): Promise<KeyPair> {
  const pair = (await crypto.subtle.generateKey(algorithm, true, [
    ...usages(algorithm, "private"),
    ...usages(algorithm, "public"),
  ])) as CryptoKeyPair;
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, publicRaw };
}

/**
 * A private key as a JWK (it carries the public half in `x`), the form key files and the MIXER_CLUSTER_KEY
 * secret hold.
 *
 * @example JSON.stringify(await exportPrivateJwk(pair.privateKey))
 */
export async function exportPrivateJwk(privateKey: CryptoKey): Promise<JsonWebKey> {
  const { kty, crv, x, d } = await crypto.subtle.exportKey("jwk", privateKey);
  return { kty, crv, x, d };
}

/**
 * Imports a private JWK written by {@link exportPrivateJwk}; the private key is not extractable again.
 * Throws an error naming `what` when the JWK is not a key of that algorithm.
 *
 * @example const cluster = await importPrivateJwk(JSON.parse(text), SIGNING_ALGORITHM, "MIXER_CLUSTER_KEY");
 */
export async function importPrivateJwk(jwk: unknown, algorithm: Algorithm, what: string): Promise<KeyPair> {
  const key = (jwk ?? {}) as JsonWebKey;
  if (
    key.kty !== "OKP" ||
    key.crv !== algorithm.name ||
    typeof key.x !== "string" ||
    typeof key.d !== "string"
  ) {
    throw new Error(
      `${what} is not an ${algorithm.name} private key (expected a JWK with kty OKP, crv ${algorithm.name}, x and d)`,
    );
  }
  const { kty, crv, x, d } = key;
  const privateKey = await crypto.subtle.importKey(
    "jwk",
    { kty, crv, x, d },
    algorithm,
    false,
    usages(algorithm, "private"),
  );
  const publicRaw = fromBase64Url(x);
  return { privateKey, publicKey: await importPublicKey(publicRaw, algorithm), publicRaw };
}

/**
 * Imports a raw 32-byte public key.
 *
 * @example const pinned = await importPublicKey(raw, SIGNING_ALGORITHM);
 */
export function importPublicKey(publicRaw: Bytes, algorithm: Algorithm): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", publicRaw, algorithm, true, usages(algorithm, "public"));
}
