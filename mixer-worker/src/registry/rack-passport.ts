import { z } from "zod";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import {
  PASSPORT_VERSION,
  type SealedSecret,
  sealedSecretSchema,
  signPassport,
} from "../../../shared/passport/index.ts";
import type { MixerEnv } from "../env.ts";
import { clusterKey } from "./cluster-key.ts";
import { mixerId } from "./mixer-identity.ts";
import { blobBytes, type RackRow } from "./rack-row.ts";
import { findRack, storePassport } from "./racks.ts";

const sealedSecretsSchema = z.record(z.string(), sealedSecretSchema);

/** A rack's sealed secrets as stored (a CBOR map, ciphertext only); none when the column is empty. */
export function decodeSecrets(rack: Pick<RackRow, "secrets">): Record<string, SealedSecret> {
  const bytes = blobBytes(rack.secrets);
  return bytes.length === 0 ? {} : sealedSecretsSchema.parse(cbor.decode(bytes));
}

/** Sealed secrets for the `secrets` column. */
export function encodeSecrets(secrets: Record<string, SealedSecret>): Uint8Array {
  return cbor.encode(secrets);
}

/**
 * Signs a new passport for a rack as the registry holds it now and keeps it on the row, for delivery now
 * and again when a heartbeat shows the rack holds an older one. `issued_at` strictly increases per rack,
 * because racks refuse a passport older than the one they hold (a replay from the bus).
 *
 * @example const passport = await issueRackPassport(env, id);
 */
export async function issueRackPassport(env: MixerEnv, id: string): Promise<Uint8Array> {
  const rack = await findRack(env.REGISTRY, "id", id);
  if (!rack) throw new Error(`no rack ${id} to issue a passport for`);
  const [key, mixer] = await Promise.all([clusterKey(env), mixerId(env.REGISTRY)]);
  const issuedAt = Math.max(Date.now(), rack.passport_issued_at + 1);
  const passport = await signPassport(
    {
      version: PASSPORT_VERSION,
      rack_id: rack.id,
      name: rack.name,
      mixer_id: mixer,
      status: rack.status,
      issued_at: issuedAt,
      rack_key: rack.key_fingerprint,
      config: JSON.parse(rack.config) as Record<string, unknown>,
      secrets: decodeSecrets(rack),
    },
    key.privateKey,
  );
  await storePassport(env.REGISTRY, rack.id, passport, issuedAt);
  return passport;
}
