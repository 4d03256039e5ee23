/**
 * What a bench client presents to the local mixer's bus: nothing when it runs without auth; under
 * `snake.auth = "jwt"` a rack gets a user JWT cut as the mixer cuts an active rack's (its own subjects only,
 * signed by the account signing key of the mixer's `nats.keys`), so the server checks the same permissions it
 * would in production.
 */

import { type ConnectionOptions, jwtAuthenticator } from "@nats-io/nats-core";
import { createUser } from "@nats-io/nkeys";
import { localSecret, NATS_KEYS } from "../mixer-worker/cli/keys/mixer-secrets.ts";
import { loadConfig, mixerConfigSchema } from "../shared/config/index.ts";
import { parseNatsKeys, rackInboxPrefix, rackPermissions, userJwt } from "../shared/nats-auth/index.ts";
import type { TestMixer } from "../test/helpers/test-mixer.ts";

export type BusAuth = "none" | "jwt";

/**
 * Connection options for a bench rack named `rackName` (entity `rackId`) on `mixer`'s bus.
 *
 * @example const nc = await connect({ servers: mixer.natsUrl, ...(await rackCredentials(mixer, id, "bench-logs-0")) });
 */
export async function rackCredentials(
  mixer: TestMixer,
  rackId: string,
  rackName: string,
): Promise<Partial<ConnectionOptions>> {
  if (!mixer.natsAuthenticator) return {};
  const { config } = loadConfig(mixerConfigSchema, { env: mixer.env });
  const secret = await localSecret(mixer.storeDir, NATS_KEYS, mixer.env);
  const keys = parseNatsKeys(secret.value, secret.source);
  const user = createUser();
  const permissions = rackPermissions({
    rackId,
    rackName,
    domain: config.snake.domain,
    businessStream: config.snake.stream_name,
  });
  const jwt = await userJwt(keys, user.getPublicKey(), { name: rackName, permissions, ttlMs: 86_400_000 });
  // Replies (JetStream acks) come to the rack's own inbox: the only one it may subscribe to.
  return { authenticator: jwtAuthenticator(jwt, user.getSeed()), inboxPrefix: rackInboxPrefix(rackId) };
}
