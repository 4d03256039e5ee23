import { encodeAccount, encodeOperator, encodeUser, type Permissions } from "@nats-io/jwt";
import { createUser, type KeyPair } from "@nats-io/nkeys";
import type { NatsKeys } from "./keys.ts";

/** The one application account: every rack and the mixer live in it. */
export const FLUXRIG_ACCOUNT_NAME = "fluxrig";
const SYSTEM_ACCOUNT_NAME = "SYS";

/** No limit on connections, subscriptions or sizes (an account JWT without limits allows no connection). */
const UNLIMITED = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
};

/**
 * A revocation time past any JWT's issue time: a revoked rack's user key stays refused whatever JWT it shows,
 * even one an isolate signed a moment after the revocation (revoked is final).
 */
export const REVOKED_FOREVER = 253_402_300_799; // 9999-12-31T23:59:59Z

/** Unix seconds, as JWT claims count time. */
const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * The operator JWT nats-server trusts (`operator:` in its config), naming the system account.
 *
 * @example const jwt = await operatorJwt(keys);
 */
export function operatorJwt(keys: NatsKeys): Promise<string> {
  return encodeOperator("fluxrig", keys.operator, { system_account: keys.systemAccount.getPublicKey() });
}

/** The system account's JWT: its users push account updates to the resolver. */
export function systemAccountJwt(keys: NatsKeys): Promise<string> {
  return encodeAccount(
    SYSTEM_ACCOUNT_NAME,
    keys.systemAccount,
    { limits: UNLIMITED },
    { signer: keys.operator },
  );
}

/**
 * The fluxrig account's JWT: JetStream without limits, the account signing key that signs every user, and
 * `revocations` (user public key → unix seconds: JWTs of that user issued until then are refused, and its
 * connections closed, once the server takes the update).
 *
 * @example const jwt = await accountJwt(keys, { [rackNkey]: REVOKED_FOREVER });
 */
export function accountJwt(keys: NatsKeys, revocations: Record<string, number> = {}): Promise<string> {
  return encodeAccount(
    FLUXRIG_ACCOUNT_NAME,
    keys.account,
    {
      limits: {
        ...UNLIMITED,
        mem_storage: -1,
        disk_storage: -1,
        streams: -1,
        consumer: -1,
      },
      signing_keys: [keys.accountSigning.getPublicKey()],
      ...(Object.keys(revocations).length > 0 ? { revocations } : {}),
    },
    { signer: keys.operator },
  );
}

/** What a user JWT says beyond its subject. */
export interface UserClaims {
  /** Shown in the server's connection list (`connz`). */
  name: string;
  /** Omitted: everything (the mixer's own user). */
  permissions?: Permissions;
  /** Lifetime from now; omitted: no expiry. */
  ttlMs?: number;
  /** A bearer JWT needs no nonce signature: it is the whole credential (the enrollment user). */
  bearer?: boolean;
}

/**
 * A user JWT for `userPublicKey` (a `U…` nkey) in the fluxrig account, signed by the account signing key.
 * Pure Web APIs (tweetnacl, WebCrypto's SHA-512): it runs in workerd and in Node.
 *
 * @example const jwt = await userJwt(keys, rackNkey, { name: "rack-a", permissions, ttlMs: 86_400_000 });
 */
export function userJwt(keys: NatsKeys, userPublicKey: string, claims: UserClaims): Promise<string> {
  return encodeUser(
    claims.name,
    userPublicKey,
    keys.account,
    {
      ...(claims.permissions ?? {}),
      ...(claims.bearer ? { bearer_token: true } : {}),
    },
    {
      signer: keys.accountSigning,
      ...(claims.ttlMs === undefined ? {} : { exp: seconds(Date.now() + claims.ttlMs) }),
    },
  );
}

/** A user of the system account (for pushing account updates); short-lived, made when needed. */
export async function systemUser(keys: NatsKeys): Promise<{ jwt: string; seed: Uint8Array }> {
  const user = createUser();
  const jwt = await encodeUser(
    "fluxrig-mixer-sys",
    user,
    keys.systemAccount,
    {},
    {
      exp: seconds(Date.now() + 5 * 60_000),
    },
  );
  return { jwt, seed: user.getSeed() };
}

/**
 * A new user of the fluxrig account with every permission: the mixer's bridge (its own user, the only one
 * that may manage streams and consumers) and the local launcher's tools.
 *
 * @example const { jwt, seed } = await mixerUser(keys, "fluxrig-mixer-bridge");
 */
export async function mixerUser(keys: NatsKeys, name: string): Promise<{ jwt: string; seed: Uint8Array }> {
  const user: KeyPair = createUser();
  return { jwt: await userJwt(keys, user.getPublicKey(), { name }), seed: user.getSeed() };
}
