import {
  type NatsKeys,
  rackPermissions,
  rackStandbyPermissions,
  userJwt,
} from "../../../shared/nats-auth/index.ts";
import type { PassportPayload } from "../../../shared/passport/index.ts";
import { mixerConfig } from "../config.ts";
import type { MixerEnv } from "../env.ts";
import { assignedPart } from "./assigned-part.ts";
import { natsKeys } from "./nats-keys.ts";
import type { RackRow } from "./rack-row.ts";

/**
 * The bus JWTs a passport carries for `row` (see `bus` in the passport schema): an expiring one with the
 * rack's own permissions while it is active (its business subjects are the lanes of the scenario part it is
 * assigned, so a new part re-issues the passport), a standby one (heartbeat, enrollment, its inbox and passport)
 * unless it is revoked. None on an open bus, for a revoked rack, or for a rack that sent no user key.
 *
 * @example const bus = await rackBusCredentials(env, row);
 */
export async function rackBusCredentials(env: MixerEnv, row: RackRow): Promise<PassportPayload["bus"]> {
  const keys: NatsKeys | undefined = natsKeys(env);
  if (!keys || row.status === "revoked" || !row.nats_user_key) return undefined;
  const { snake } = mixerConfig(env).config;
  const scope = {
    rackId: row.id,
    rackName: row.name,
    domain: snake.domain,
    businessStream: snake.stream_name,
  };
  const standby_jwt = await userJwt(keys, row.nats_user_key, {
    name: `${row.name} (standby)`,
    permissions: rackStandbyPermissions(scope),
  });
  if (row.status !== "active") return { standby_jwt };
  const lanes = assignedPart(row);
  const jwt = await userJwt(keys, row.nats_user_key, {
    name: row.name,
    permissions: rackPermissions({ ...scope, ...(lanes ? { lanes } : {}) }),
    ttlMs: snake.user_jwt_ttl,
  });
  return { jwt, standby_jwt };
}
