import * as z from "zod";
import { type Bytes, byteString } from "./encoding.ts";
import { generateKeyPair, importPublicKey, SEALING_ALGORITHM } from "./keys.ts";

/** One secret sealed to a rack: an ephemeral X25519 public key, the AES-GCM nonce and the ciphertext. */
export const sealedSecretSchema = z.strictObject({
  epk: byteString(32),
  iv: byteString(12),
  ct: byteString(),
});
export type SealedSecret = z.infer<typeof sealedSecretSchema>;

/** Secret names: what a gear asks for, and the AES-GCM associated data that binds each value to its name. */
export const SECRET_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

const encoder = new TextEncoder();
const INFO = encoder.encode("fluxrig-sealed-secret-v1");

/** HKDF-SHA256 over the X25519 shared secret, salted with both public keys, to one AES-256-GCM key. */
async function sealingKey(
  privateKey: CryptoKey,
  peer: CryptoKey,
  ephemeralRaw: Bytes,
  recipientRaw: Bytes,
): Promise<CryptoKey> {
  const shared = await crypto.subtle.deriveBits({ ...SEALING_ALGORITHM, public: peer }, privateKey, 256);
  const salt = new Uint8Array(64);
  salt.set(ephemeralRaw);
  salt.set(recipientRaw, 32);
  const ikm = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt, info: INFO },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/**
 * Encrypts a secret to a rack's X25519 public key (ECIES: a fresh ephemeral key per secret, HKDF, AES-GCM
 * with the name as associated data, so a value cannot be moved under another name). Only the holder of the
 * rack's private key can open it; whoever seals it (the mixer) cannot read it back.
 *
 * @example const sealed = await sealSecret(rackSealingRaw, "db_password", "s3cret");
 */
export async function sealSecret(recipientRaw: Bytes, name: string, value: string): Promise<SealedSecret> {
  const ephemeral = await generateKeyPair(SEALING_ALGORITHM);
  const recipient = await importPublicKey(recipientRaw, SEALING_ALGORITHM);
  const key = await sealingKey(ephemeral.privateKey, recipient, ephemeral.publicRaw, recipientRaw);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(name) },
    key,
    encoder.encode(value),
  );
  return { epk: ephemeral.publicRaw, iv, ct: new Uint8Array(ct) };
}

/**
 * Decrypts a secret sealed to this rack; throws an error naming the secret when it was sealed to another
 * key, altered, or moved under another name.
 *
 * @example const value = await openSealedSecret(rackKeys.sealing, "db_password", passport.secrets.db_password);
 */
export async function openSealedSecret(
  recipient: { privateKey: CryptoKey; publicRaw: Bytes },
  name: string,
  sealed: SealedSecret,
): Promise<string> {
  const ephemeral = await importPublicKey(sealed.epk, SEALING_ALGORITHM);
  const key = await sealingKey(recipient.privateKey, ephemeral, sealed.epk, recipient.publicRaw);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: sealed.iv, additionalData: encoder.encode(name) },
      key,
      sealed.ct,
    );
    return new TextDecoder().decode(plain);
  } catch {
    throw new Error(
      `secret ${name} cannot be opened with this rack's sealing key (sealed to another key, or altered)`,
    );
  }
}
