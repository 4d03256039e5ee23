import { PASSPORT_VERSION, signPassport } from "../../../shared/passport/index.ts";
import type { MixerEnv } from "../env.ts";
import { clusterKey } from "./cluster-key.ts";
import { mixerId } from "./mixer-identity.ts";
import { rackBusCredentials } from "./rack-bus-credentials.ts";
import { changeRack } from "./rack-revision.ts";
import { passportSecrets } from "./rack-secrets.ts";
import { findRack, storePassport } from "./racks.ts";

/**
 * Signs a new passport for a rack as the registry holds it now and keeps it on the row, for delivery now
 * and again when a heartbeat shows the rack holds an older one. `issued_at` strictly increases per rack,
 * because racks refuse a passport older than the one they hold (a replay from the bus). A passport is stored
 * only if the row did not change while it was signed; otherwise it is signed again from a fresh read, so a
 * passport that misses a change never becomes the rack's latest.
 *
 * @example const passport = await issueRackPassport(env, id);
 */
export async function issueRackPassport(env: MixerEnv, id: string): Promise<Uint8Array> {
  const rack = await findRack(env.REGISTRY, "id", id);
  if (!rack) throw new Error(`no rack ${id} to issue a passport for`);
  const [key, mixer] = await Promise.all([clusterKey(env), mixerId(env.REGISTRY)]);
  return changeRack(env.REGISTRY, rack, async (row) => {
    const issuedAt = Math.max(Date.now(), row.passport_issued_at + 1);
    const bus = await rackBusCredentials(env, row);
    const passport = await signPassport(
      {
        version: PASSPORT_VERSION,
        rack_id: row.id,
        name: row.name,
        mixer_id: mixer,
        status: row.status,
        issued_at: issuedAt,
        rack_key: row.key_fingerprint,
        config: JSON.parse(row.config) as Record<string, unknown>,
        secrets: passportSecrets(row),
        ...(bus ? { bus } : {}),
      },
      key.privateKey,
    );
    const stored = await storePassport(env.REGISTRY, row.id, row.revision, passport, issuedAt);
    return stored ? passport : undefined;
  });
}
