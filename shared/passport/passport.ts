import * as z from "zod";
import { entityNameSchema } from "../telemetry/entity-name.ts";
import { EnvelopeError, openEnvelope, signEnvelope } from "./envelope.ts";
import { sealedSecretSchema } from "./seal.ts";

/** The passport layout this code writes and reads; a passport of any other version is refused. */
export const PASSPORT_VERSION = 1;

/** A rack's standing in the registry, as its passport states it. */
export const RACK_STATUSES = ["pending", "active", "suspended", "revoked"] as const;
export type RackStatus = (typeof RACK_STATUSES)[number];

/** A JWT as NATS reads it (three base64url parts). */
const jwtText = z
  .string()
  .max(16_384)
  .regex(/^[\w-]+\.[\w-]+\.[\w-]+$/, "a JWT");

/**
 * What the mixer vouches for in a passport (the payload of the signed envelope). `rack_key` is the
 * fingerprint of the rack's identity key, so a passport issued to one rack is refused by any other.
 * `config` is the rack's non-secret settings as the registry holds them; `secrets` are sealed to the rack.
 */
export const passportPayloadSchema = z.strictObject({
  version: z.literal(PASSPORT_VERSION),
  rack_id: z.uuid(),
  name: entityNameSchema,
  mixer_id: z.uuid(),
  status: z.enum(RACK_STATUSES),
  /** Milliseconds since the epoch; strictly increasing per rack, so a replayed older passport is refused. */
  issued_at: z.int().positive(),
  rack_key: z.string().startsWith("SHA256:"),
  config: z.record(z.string(), z.unknown()),
  secrets: z.record(z.string(), sealedSecretSchema),
  /**
   * The rack's user JWTs for the bus when it runs in operator mode (for the rack's own user nkey, signed by
   * the account signing key): `jwt` with the rack's full permissions, expiring (`snake.user_jwt_ttl`), only
   * while active; `standby_jwt` without expiry, allowing only heartbeats, enrollment, its inbox and its
   * passport, so a rack whose `jwt` expired with the mixer away still reaches it for a renewal.
   */
  bus: z.strictObject({ jwt: jwtText.optional(), standby_jwt: jwtText }).optional(),
});
export type PassportPayload = z.infer<typeof passportPayloadSchema>;

/** The one key a passport may be verified with, and its fingerprint for messages. */
export interface PinnedKey {
  key: CryptoKey;
  fingerprint: string;
}

/** A passport that must not be used; the message says why. */
export class PassportError extends Error {
  override name = "PassportError";
}

/**
 * Signs a passport with the cluster key: the CBOR envelope `{payload, signature}` that racks store as
 * `base.state_file` and verify against their pinned cluster key.
 *
 * @example const bytes = await signPassport(payload, cluster.privateKey);
 */
export function signPassport(payload: PassportPayload, clusterPrivateKey: CryptoKey): Promise<Uint8Array> {
  return signEnvelope("passport", passportPayloadSchema.parse(payload), clusterPrivateKey);
}

/**
 * Verifies a passport against the pinned cluster key and returns its payload. Refuses, with a
 * {@link PassportError} that says why, a truncated or corrupted file, a changed byte, another cluster's
 * signature, a passport of an unknown version, and a payload that is not a passport. Never consults a key
 * carried inside the passport.
 *
 * @example const passport = await verifyPassport(await readFile(path), pinned);
 */
export async function verifyPassport(bytes: Uint8Array, pinned: PinnedKey): Promise<PassportPayload> {
  let payload: unknown;
  try {
    payload = await openEnvelope(
      "passport",
      bytes,
      pinned.key,
      `the pinned cluster key ${pinned.fingerprint}`,
    );
  } catch (error) {
    if (error instanceof EnvelopeError) throw new PassportError(error.message);
    throw error;
  }
  const version = (payload as { version?: unknown } | null)?.version;
  if (version !== PASSPORT_VERSION) {
    throw new PassportError(
      `passport version ${JSON.stringify(version)} is not supported (this rack reads version ${PASSPORT_VERSION}; upgrade the rack)`,
    );
  }
  const parsed = passportPayloadSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PassportError(`not a valid passport: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  return parsed.data;
}
