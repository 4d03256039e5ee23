import type { NatsConnection } from "@nats-io/nats-core";

/** Where a system-account user pushes a new account JWT to the `full` resolver. */
export const CLAIMS_UPDATE_SUBJECT = "$SYS.REQ.CLAIMS.UPDATE";

/**
 * Pushes an account JWT to nats-server's resolver over `nc`, a connection of a system-account user, and
 * resolves once the server took it (it then applies revocations at once: the revoked users' connections
 * close). Throws with the server's reason otherwise.
 *
 * @example await pushAccountJwt(sys, await accountJwt(keys, revocations));
 */
export async function pushAccountJwt(nc: NatsConnection, jwt: string, timeoutMs = 5_000): Promise<void> {
  const reply = await nc.request(CLAIMS_UPDATE_SUBJECT, jwt, { timeout: timeoutMs });
  const answer = reply.json<{
    data?: { code?: number; message?: string };
    error?: { description?: string };
  }>();
  if (answer.error || (answer.data?.code !== undefined && answer.data.code !== 200)) {
    throw new Error(
      `nats-server refused the account update: ${answer.error?.description ?? answer.data?.message ?? JSON.stringify(answer)}`,
    );
  }
}
