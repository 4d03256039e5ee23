import { cbor } from "../fluxmsg/cbor.ts";
import type { Bytes } from "./encoding.ts";
import { SIGNING_ALGORITHM } from "./keys.ts";

/**
 * What a signature is for. Each purpose signs under its own context string, so a signature made for one
 * (a rack's heartbeat) can never pass for another (an enrollment), even with the same key.
 */
export type SignedPurpose = "passport" | "enroll" | "heartbeat" | "scenario";

/** A refused envelope; the message says what is wrong with it. */
export class EnvelopeError extends Error {
  override name = "EnvelopeError";
}

const encoder = new TextEncoder();

function signedBytes(purpose: SignedPurpose, payload: Uint8Array): Bytes {
  const context = encoder.encode(`fluxrig-${purpose}-v1\0`);
  const out = new Uint8Array(context.length + payload.length);
  out.set(context);
  out.set(payload, context.length);
  return out;
}

/**
 * CBOR-encodes `payload` and signs it with an Ed25519 key: the result is the CBOR map
 * `{payload: <CBOR bytes>, signature: <64 bytes>}`. The payload stays bytes inside the envelope, so the
 * verifier checks exactly what was signed before decoding any of it.
 *
 * @example const bytes = await signEnvelope("heartbeat", { rack_id, sent_at }, rackKey.privateKey);
 */
export async function signEnvelope(
  purpose: SignedPurpose,
  payload: unknown,
  privateKey: CryptoKey,
): Promise<Uint8Array> {
  const body = cbor.encode(payload);
  const signature = new Uint8Array(
    await crypto.subtle.sign(SIGNING_ALGORITHM, privateKey, signedBytes(purpose, body)),
  );
  return cbor.encode({ payload: body, signature });
}

/**
 * Verifies an envelope with the one public key the caller trusts, and only then decodes its payload.
 * `signer` names that key in the error (e.g. "the pinned cluster key SHA256:…"). A key carried inside the
 * envelope is never consulted: anyone can sign with a key of their own.
 *
 * @example const payload = await openEnvelope("passport", bytes, pinned.key, `the pinned cluster key ${pinned.fingerprint}`);
 */
export async function openEnvelope(
  purpose: SignedPurpose,
  bytes: Uint8Array,
  publicKey: CryptoKey,
  signer: string,
): Promise<unknown> {
  const { payload, signature } = decodeEnvelope(purpose, bytes);
  const valid = await crypto.subtle.verify(
    SIGNING_ALGORITHM,
    publicKey,
    signature,
    signedBytes(purpose, payload),
  );
  if (!valid) {
    throw new EnvelopeError(
      `the ${purpose} signature does not verify against ${signer}: it was altered, or signed by another key`,
    );
  }
  return decodeCbor(payload, `the ${purpose} payload`);
}

/**
 * Reads an envelope's payload WITHOUT verifying it, for a receiver that must learn from it which key to
 * verify with (an enrollment carries the rack's new key, and proves it holds the private half). Trust
 * nothing read here until {@link openEnvelope} with that key succeeded.
 *
 * @example const claimed = peekEnvelopePayload("enroll", bytes);
 */
export function peekEnvelopePayload(purpose: SignedPurpose, bytes: Uint8Array): unknown {
  return decodeCbor(decodeEnvelope(purpose, bytes).payload, `the ${purpose} payload`);
}

function decodeEnvelope(
  purpose: SignedPurpose,
  bytes: Uint8Array,
): { payload: Uint8Array; signature: Bytes } {
  const envelope = decodeCbor(bytes, `the ${purpose} envelope`);
  const keys = envelope && typeof envelope === "object" ? Object.keys(envelope).sort().join(",") : "";
  const { payload, signature } = (envelope ?? {}) as { payload?: unknown; signature?: unknown };
  if (
    keys !== "payload,signature" ||
    !(payload instanceof Uint8Array) ||
    !(signature instanceof Uint8Array)
  ) {
    throw new EnvelopeError(
      `the ${purpose} envelope is not a CBOR map of exactly {payload: bytes, signature: bytes}`,
    );
  }
  if (signature.length !== 64) {
    throw new EnvelopeError(`the ${purpose} signature is ${signature.length} bytes, not the 64 of Ed25519`);
  }
  return { payload, signature: new Uint8Array(signature) };
}

function decodeCbor(bytes: Uint8Array, what: string): unknown {
  try {
    return cbor.decode(bytes);
  } catch (error) {
    throw new EnvelopeError(
      `${what} is not valid CBOR (truncated or corrupted): ${(error as Error).message}`,
    );
  }
}
