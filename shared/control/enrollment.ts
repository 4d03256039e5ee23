import * as z from "zod";
import { cbor } from "../fluxmsg/cbor.ts";
import { type Bytes, byteString } from "../passport/encoding.ts";
import { signEnvelope } from "../passport/envelope.ts";
import type { KeyPair } from "../passport/keys.ts";
import { sealedSecretSchema } from "../passport/seal.ts";
import { entityNameSchema } from "../telemetry/entity-name.ts";

/** The enrollment handshake's layout; another version is refused with a message saying so. */
export const ENROLL_VERSION = 2;

/**
 * What a rack presents on `flux.ctl.enroll`: the payload of an envelope signed with the identity key it
 * carries (so it proves it holds the private half), with a proof that it knows the bootstrap token rather
 * than the token itself (anyone subscribed on the bus could read a token sent in the clear).
 */
export const enrollRequestSchema = z.object({
  version: z.literal(ENROLL_VERSION),
  /**
   * Rack clock, ms since the epoch, signed with the rest: the mixer refuses a request not newer than the last it
   * accepted from this rack (a replay would revert its ip, config and keys) or far ahead of its own clock.
   */
  sent_at: z.int().positive(),
  name: entityNameSchema,
  ip: z.string().max(64),
  agent_version: z.string().min(1).max(64),
  /** Raw Ed25519 public key: the rack's identity. */
  identity_key: byteString(32),
  /** Raw X25519 public key: the mixer seals the rack's secrets to it. */
  sealing_key: byteString(32),
  token_proof: byteString(32),
  labels: z.record(z.string(), z.string()),
  heartbeat_interval_ms: z.int().positive(),
  /** The rack's effective non-secret settings, kept in the registry and echoed in the passport. */
  config: z.record(z.string(), z.unknown()),
  /** Secrets from the rack's environment, already sealed to its own key: the mixer never sees them. */
  secrets: z.record(z.string(), sealedSecretSchema),
  /** The rack's own NATS user nkey (public, `U…`): the mixer issues the rack's bus JWTs for it. */
  nats_user_key: z
    .string()
    .regex(/^U[A-Z2-7]{55}$/, "a NATS user public key (U…)")
    .optional(),
});
export type EnrollRequest = z.infer<typeof enrollRequestSchema>;

/**
 * Secret settings that only admit a rack at enrollment (`rack.bootstrap_token`, and `snake.enrollment_token` on a
 * bus in operator mode: credentials for the whole cluster). They are never sealed into a passport, kept in the registry or handed to gears: a gear, a stolen
 * passport or a registry dump would otherwise carry a key that enrolls any machine.
 */
export const ENROLLMENT_ONLY_SECRETS: ReadonlySet<string> = new Set([
  "rack.bootstrap_token",
  "snake.enrollment_token",
]);

/**
 * `secrets` without the {@link ENROLLMENT_ONLY_SECRETS}.
 *
 * @example const deliverable = withoutEnrollmentOnly({ "rack.bootstrap_token": t, hsm_pin: p }); // { hsm_pin }
 */
export function withoutEnrollmentOnly<T>(secrets: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(secrets).filter(([name]) => !ENROLLMENT_ONLY_SECRETS.has(name)));
}

/** The mixer's answer (plain CBOR; the passport inside is what is signed). */
export const enrollReplySchema = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    passport: byteString(),
    /** The cluster's raw Ed25519 public key, pinned by a rack on first use unless it pins a fingerprint. */
    cluster_key: byteString(32),
    mixer_id: z.uuid(),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
/** What the mixer writes (a decoded reply is `z.infer` of the schema). */
export type EnrollReply = z.input<typeof enrollReplySchema>;

const encoder = new TextEncoder();

/**
 * HMAC-SHA256 of the rack's identity key under the bootstrap token: shows the token is known without
 * revealing it, and is bound to that one key, so a copy taken off the bus is no use with another key.
 *
 * @example const proof = await bootstrapTokenProof(token, identity.publicRaw);
 */
export async function bootstrapTokenProof(token: string, identityKey: Bytes): Promise<Bytes> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(token),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const context = encoder.encode("fluxrig-bootstrap-token-v1\0");
  const message = new Uint8Array(context.length + identityKey.length);
  message.set(context);
  message.set(identityKey, context.length);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
}

/** What a rack fills in; the version, time, key and token proof are added by {@link signEnrollRequest}. */
export type EnrollClaims = Omit<EnrollRequest, "version" | "sent_at" | "identity_key" | "token_proof">;

/**
 * The enrollment request a rack sends: its claims, the time (`sentAt`, now unless given), its identity key and
 * the token proof, signed with that identity key. Sign each attempt anew: a repeated request is a replay.
 *
 * @example const request = await signEnrollRequest(claims, keys.identity, config.rack.bootstrap_token);
 */
export async function signEnrollRequest(
  claims: EnrollClaims,
  identity: KeyPair,
  token: string,
  sentAt = Date.now(),
): Promise<Uint8Array> {
  const request: EnrollRequest = {
    version: ENROLL_VERSION,
    sent_at: sentAt,
    ...claims,
    identity_key: identity.publicRaw,
    token_proof: await bootstrapTokenProof(token, identity.publicRaw),
  };
  return signEnvelope("enroll", request, identity.privateKey);
}

/**
 * Reads the mixer's reply; a reply that is not one is reported as such, never taken for a refusal.
 *
 * @example const reply = decodeEnrollReply(msg.data); if (!reply.ok) throw new Error(reply.error);
 */
export function decodeEnrollReply(bytes: Uint8Array): z.infer<typeof enrollReplySchema> {
  let value: unknown;
  try {
    value = cbor.decode(bytes);
  } catch (error) {
    throw new Error(`the enrollment reply is not valid CBOR: ${(error as Error).message}`);
  }
  const parsed = enrollReplySchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `the enrollment reply is malformed: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    );
  }
  return parsed.data;
}
