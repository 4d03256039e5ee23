import { createAccount, createOperator, fromSeed, type KeyPair } from "@nats-io/nkeys";
import * as z from "zod";

/** The Worker secret (and local file) that holds the bus's signing keys. */
export const NATS_KEYS_SECRET = "MIXER_NATS_KEYS";

const seed = (prefix: string, what: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}[A-Z2-7]{56}$`), `expected an nkey seed starting with ${prefix} (${what})`);

/**
 * The seeds behind the bus's decentralized auth, as the `MIXER_NATS_KEYS` secret holds them (JSON): the
 * operator (signs account JWTs, including the revocation updates the mixer pushes), the fluxrig account
 * (its identity, named in every user JWT), the account signing key (signs user JWTs: racks, the enrollment
 * user, the mixer's bridge) and the system account (its users push account updates to the resolver).
 */
export const natsKeysSchema = z.strictObject({
  version: z.literal(1),
  operator: seed("SO", "operator"),
  account: seed("SA", "account"),
  account_signing: seed("SA", "account signing key"),
  system_account: seed("SA", "system account"),
});
export type NatsKeysFile = z.infer<typeof natsKeysSchema>;

/** The key pairs of {@link NatsKeysFile}. */
export interface NatsKeys {
  operator: KeyPair;
  account: KeyPair;
  accountSigning: KeyPair;
  systemAccount: KeyPair;
}

const text = (kp: KeyPair) => new TextDecoder().decode(kp.getSeed());

/**
 * Makes a new set of bus keys, as the text of the `MIXER_NATS_KEYS` secret. `fluxrig-mixer dev` calls it on
 * first start (kept under the store dir); `fluxrig-mixer keys init` prints it for `wrangler secret put`.
 *
 * @example const secret = generateNatsKeys();
 */
export function generateNatsKeys(): string {
  const file: NatsKeysFile = {
    version: 1,
    operator: text(createOperator()),
    account: text(createAccount()),
    account_signing: text(createAccount()),
    system_account: text(createAccount()),
  };
  return JSON.stringify(file);
}

/**
 * Reads the `MIXER_NATS_KEYS` secret; a bad one is an error naming `source` and the field at fault (never
 * the value).
 *
 * @example const keys = parseNatsKeys(env.MIXER_NATS_KEYS, "MIXER_NATS_KEYS");
 */
export function parseNatsKeys(secret: string, source: string): NatsKeys {
  let json: unknown;
  try {
    json = JSON.parse(secret);
  } catch {
    throw new Error(`${source} is not JSON: expected the bus keys that fluxrig-mixer keys init makes`);
  }
  const parsed = natsKeysSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  const pair = (value: string) => fromSeed(new TextEncoder().encode(value));
  return {
    operator: pair(parsed.data.operator),
    account: pair(parsed.data.account),
    accountSigning: pair(parsed.data.account_signing),
    systemAccount: pair(parsed.data.system_account),
  };
}
