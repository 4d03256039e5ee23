import {
  bootstrapTokenProof,
  ENROLL_VERSION,
  type EnrollReply,
  type EnrollRequest,
  enrollRequestSchema,
  withoutEnrollmentOnly,
} from "../../../shared/control/enrollment.ts";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import {
  EnvelopeError,
  importPublicKey,
  keyFingerprint,
  openEnvelope,
  peekEnvelopePayload,
  SIGNING_ALGORITHM,
  toBase64Url,
  toHex,
} from "../../../shared/passport/index.ts";
import { uuidv7 } from "../../../shared/random/uuidv7.ts";
import { mixerConfig } from "../config.ts";
import type { MixerEnv } from "../env.ts";
import { constantTimeEqual } from "../http/constant-time.ts";
import { clusterKey } from "../registry/cluster-key.ts";
import { mixerId } from "../registry/mixer-identity.ts";
import { issueRackPassport } from "../registry/rack-passport.ts";
import { encodeSecrets } from "../registry/rack-secrets.ts";
import { type EnrollmentFields, findRack, insertRack, updateEnrollment } from "../registry/racks.ts";
import { clockAheadReason } from "./rack-clock.ts";

/** An enrollment the mixer turns down; its message goes back to the rack as is. */
class Refused extends Error {}

/** How an enrollment ended, for the mixer's log. */
export type EnrollOutcome =
  | { kind: "enrolled" | "re-enrolled"; rackId: string; name: string; status: string }
  | { kind: "refused"; reason: string };

/**
 * Handles one enrollment request (the CBOR envelope a rack sends on `flux.ctl.enroll`) and returns the
 * CBOR reply. The rack must sign the request with the identity key it presents and prove it knows
 * `enrollment.bootstrap_token`. A new key gets a new UUID v7, `pending` (or `active` under
 * `enrollment.auto_adopt`); a known key keeps its id and status; a name bound to another key is refused.
 *
 * @example const { reply } = await enrollRack(env, msg.data); msg.respond(reply);
 */
export async function enrollRack(
  env: MixerEnv,
  request: Uint8Array,
): Promise<{ reply: Uint8Array; outcome: EnrollOutcome }> {
  try {
    const { rackId, known } = await admit(env, await verifiedRequest(env, request));
    const passport = await issueRackPassport(env, rackId);
    const [key, mixer, rack] = await Promise.all([
      clusterKey(env),
      mixerId(env.REGISTRY),
      findRack(env.REGISTRY, "id", rackId),
    ]);
    const reply: EnrollReply = { ok: true, passport, cluster_key: key.publicRaw, mixer_id: mixer };
    return {
      reply: cbor.encode(reply),
      outcome: {
        kind: known ? "re-enrolled" : "enrolled",
        rackId,
        name: rack?.name ?? "",
        status: rack?.status ?? "",
      },
    };
  } catch (error) {
    if (!(error instanceof Refused || error instanceof EnvelopeError)) throw error;
    const reply: EnrollReply = { ok: false, error: error.message };
    return { reply: cbor.encode(reply), outcome: { kind: "refused", reason: error.message } };
  }
}

async function verifiedRequest(env: MixerEnv, bytes: Uint8Array): Promise<EnrollRequest> {
  const token = mixerConfig(env).config.enrollment.bootstrap_token;
  if (!token) {
    throw new Refused(
      "enrollment is closed: the mixer has no bootstrap token (set FLUXRIG_ENROLLMENT_BOOTSTRAP_TOKEN)",
    );
  }
  const claimed = peekEnvelopePayload("enroll", bytes);
  const version = (claimed as { version?: unknown } | null)?.version;
  if (version !== ENROLL_VERSION) {
    throw new Refused(
      `enrollment version ${JSON.stringify(version)} is not supported (this mixer speaks version ${ENROLL_VERSION})`,
    );
  }
  const parsed = enrollRequestSchema.safeParse(claimed);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Refused(`not an enrollment request: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  // Proof of possession: the request is signed by the private half of the key it presents.
  const identity = await importPublicKey(parsed.data.identity_key, SIGNING_ALGORITHM);
  await openEnvelope("enroll", bytes, identity, "the identity key it presents");
  const expected = await bootstrapTokenProof(token, parsed.data.identity_key);
  if (!(await constantTimeEqual(toHex(parsed.data.token_proof), toHex(expected)))) {
    throw new Refused(
      "bootstrap token refused: rack.bootstrap_token does not match the mixer's enrollment.bootstrap_token",
    );
  }
  const ahead = clockAheadReason("the enrollment", parsed.data.sent_at, Date.now());
  if (ahead) throw new Refused(ahead);
  return parsed.data;
}

/**
 * Binds the request to a registry row: the same key keeps its id, if the request is newer (rack clock) than
 * the last enrollment accepted from it; a name held by another key is refused.
 */
async function admit(env: MixerEnv, request: EnrollRequest): Promise<{ rackId: string; known: boolean }> {
  const db = env.REGISTRY;
  const identityKey = toBase64Url(request.identity_key);
  const now = Date.now();
  for (let attempt = 0; attempt < 2; attempt++) {
    const [byKey, byName] = await Promise.all([
      findRack(db, "identity_key", identityKey),
      findRack(db, "name", request.name),
    ]);
    if (byName && byName.identity_key !== identityKey) {
      throw new Refused(
        `name "${request.name}" is already enrolled by rack ${byName.id} with another identity key ` +
          `(${byName.key_fingerprint}); a name cannot be claimed by a new key: choose another base.name`,
      );
    }
    const fields: EnrollmentFields = {
      name: request.name,
      ip: request.ip,
      version: request.agent_version,
      labels: JSON.stringify(request.labels),
      config: JSON.stringify(request.config),
      heartbeat_interval_ms: request.heartbeat_interval_ms,
      sealing_key: toBase64Url(request.sealing_key),
      // The rack's own sealed values replace those of its last enrollment; the mixer's are another column.
      // A rack that still sends its bootstrap token gets it dropped: the registry never keeps it.
      rack_secrets: encodeSecrets(withoutEnrollmentOnly(request.secrets)),
      last_enroll_sent_at: request.sent_at,
      nats_user_key: request.nats_user_key ?? "",
    };
    if (byKey) {
      // Revoked is final: the key may be why it was revoked, so it rewrites nothing, not even its ip.
      if (byKey.status === "revoked") {
        throw new Refused(
          `rack ${byKey.name} (${byKey.id}) is revoked and cannot enroll again with the same key: ` +
            "give the machine a new identity (remove its rack.key) and a new base.name",
        );
      }
      if (request.sent_at <= byKey.last_enroll_sent_at) {
        const iso = (ms: number) => new Date(ms).toISOString();
        throw new Refused(
          `enrollment of rack ${byKey.id} sent at ${iso(request.sent_at)} by the rack's clock is not after the ` +
            `last one accepted (${iso(byKey.last_enroll_sent_at)}): a replayed request, or a rack clock set ` +
            "back (it can enroll again once its clock passes that time)",
        );
      }
      if (await updateEnrollment(db, byKey.id, fields, now)) return { rackId: byKey.id, known: true };
      continue; // A newer enrollment of this key landed meanwhile: look again.
    }
    const id = uuidv7();
    const status = mixerConfig(env).config.enrollment.auto_adopt ? "active" : "pending";
    const key_fingerprint = await keyFingerprint(request.identity_key);
    if (await insertRack(db, { ...fields, id, identity_key: identityKey, key_fingerprint, status }, now)) {
      return { rackId: id, known: false };
    }
    // A concurrent enrollment took the name or the key between our look and our insert: look again.
  }
  throw new Refused(`enrollment of "${request.name}" raced another one; try again`);
}
