import { accountJwt, operatorJwt, systemAccountJwt } from "./claims.ts";
import type { NatsKeys } from "./keys.ts";

/**
 * The nats.conf lines of operator (JWT) mode: the operator JWT, the system account, and the `full` resolver
 * (it takes account updates at run time: revocations pushed on `$SYS.REQ.CLAIMS.UPDATE`; the memory resolver
 * cannot) with the two accounts preloaded. Without `no_auth_user`, an anonymous client is refused.
 *
 * @example lines.push(...(await operatorModeConfig(keys, join(dir, "resolver"))));
 */
export async function operatorModeConfig(keys: NatsKeys, resolverDir: string): Promise<string[]> {
  const account = keys.account.getPublicKey();
  const system = keys.systemAccount.getPublicKey();
  return [
    `operator: ${JSON.stringify(await operatorJwt(keys))}`,
    `system_account: ${system}`,
    `resolver: { type: full, dir: ${JSON.stringify(resolverDir)}, allow_delete: false, interval: "2m" }`,
    "resolver_preload: {",
    `  ${account}: ${JSON.stringify(await accountJwt(keys))}`,
    `  ${system}: ${JSON.stringify(await systemAccountJwt(keys))}`,
    "}",
  ];
}
