import { createUser } from "@nats-io/nkeys";
import {
  enrollmentPermissions,
  generateNatsKeys,
  NATS_KEYS_SECRET,
  type NatsKeys,
  parseNatsKeys,
  userJwt,
} from "../../shared/nats-auth/index.ts";

/** A secret to set once per deployment: its name and a new value. */
export interface GeneratedSecret {
  name: string;
  value: string;
  /** Where it goes. */
  purpose: string;
}

/**
 * The enrollment credential for a bus signed with `keys`: a bearer JWT, without expiry, that may only
 * request `flux.ctl.enroll` (racks present it before they hold a passport).
 */
export function enrollmentToken(keys: NatsKeys): Promise<string> {
  return userJwt(keys, createUser().getPublicKey(), {
    name: "enrollment",
    permissions: enrollmentPermissions(),
    bearer: true,
  });
}

/**
 * New bus secrets for `snake.auth = "jwt"`: the keys (a Worker secret) and the enrollment token made with
 * them (for racks). Each call makes new ones: setting them replaces the bus's trust root.
 *
 * @example for (const s of await natsSecrets()) console.log(`${s.name}=${s.value}`);
 */
export async function natsSecrets(): Promise<GeneratedSecret[]> {
  const keys = generateNatsKeys();
  return [
    { name: NATS_KEYS_SECRET, value: keys, purpose: "Worker secret (wrangler secret put MIXER_NATS_KEYS)" },
    {
      name: "FLUXRIG_SNAKE_ENROLLMENT_TOKEN",
      value: await enrollmentToken(parseNatsKeys(keys, "generated")),
      purpose: "racks, before they hold a passport",
    },
  ];
}
