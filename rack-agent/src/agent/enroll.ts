import { setTimeout as sleep } from "node:timers/promises";
import { errors, type NatsConnection } from "@nats-io/nats-core";
import {
  decodeEnrollReply,
  type EnrollClaims,
  signEnrollRequest,
} from "../../../shared/control/enrollment.ts";
import { ENROLL_SUBJECT } from "../../../shared/fluxmsg/subjects.ts";
import { type Bytes, sealSecret } from "../../../shared/passport/index.ts";
import type { RackKeys } from "../identity/rack-keys.ts";

export interface EnrollInput {
  nc: NatsConnection;
  keys: RackKeys;
  /** What the rack claims (name, ip, version, labels, interval, config snapshot); secrets are added here. */
  claims: Omit<EnrollClaims, "secrets" | "sealing_key">;
  /** Secrets from the rack's environment; sealed to its own key before they leave it. */
  secrets: Record<string, string>;
  /** The rack's NATS user public key: the mixer issues its bus JWTs for it. */
  natsUserKey: string;
  token: string;
  /** `rack.enrollment_timeout`: the whole handshake, retries included. */
  timeoutMs: number;
  /** Pause between attempts while no mixer answers (`snake.reconnect_wait`). */
  retryMs: number;
}

/** The mixer's answer to an accepted enrollment, not yet trusted: the caller checks the key and the passport. */
export interface EnrollResult {
  passport: Bytes;
  clusterKey: Bytes;
  mixerId: string;
}

/** No mixer answered within `rack.enrollment_timeout`: worth trying again later, unlike a refusal. */
export class EnrollmentUnanswered extends Error {
  override name = "EnrollmentUnanswered";
}

/**
 * Enrolls over NATS request/reply on `flux.ctl.enroll`, retrying while no mixer listens (it may be
 * reconnecting) until `timeoutMs` is spent. Throws {@link EnrollmentUnanswered}, saying what to check, when no
 * mixer answers, and an error with the mixer's own reason when it refuses.
 *
 * @example const result = await enroll({ nc, keys, claims, secrets, token, timeoutMs: 15_000, retryMs: 1_000 });
 */
export async function enroll(input: EnrollInput): Promise<EnrollResult> {
  const sealed = Object.fromEntries(
    await Promise.all(
      Object.entries(input.secrets).map(async ([name, value]) => [
        name,
        await sealSecret(input.keys.sealing.publicRaw, name, value),
      ]),
    ),
  );
  const claims = {
    ...input.claims,
    sealing_key: input.keys.sealing.publicRaw,
    secrets: sealed,
    nats_user_key: input.natsUserKey,
  };
  const deadline = Date.now() + input.timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    // Signed anew each attempt: an attempt that timed out may still have reached the mixer, which refuses the
    // same request twice (its sent_at would not be newer).
    const request = await signEnrollRequest(claims, input.keys.identity, input.token);
    try {
      const reply = decodeEnrollReply(
        (await input.nc.request(ENROLL_SUBJECT, request, { timeout: Math.max(left, 1) })).data,
      );
      if (!reply.ok) throw new Error(`the mixer refused the enrollment: ${reply.error}`);
      return { passport: reply.passport, clusterKey: reply.cluster_key, mixerId: reply.mixer_id };
    } catch (error) {
      const unanswered = error instanceof errors.RequestError && error.isNoResponders();
      if (!unanswered && !(error instanceof errors.TimeoutError)) throw error;
      if (Date.now() + input.retryMs >= deadline) {
        throw new EnrollmentUnanswered(
          `no mixer answered the enrollment on ${ENROLL_SUBJECT} within ${input.timeoutMs} ms (rack.enrollment_timeout): ` +
            "is the mixer running and connected to the same NATS as snake.url?",
        );
      }
      await sleep(input.retryMs);
    }
  }
}
