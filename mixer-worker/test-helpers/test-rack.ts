import { env } from "cloudflare:test";
import { decodeEnrollReply, type EnrollClaims, signEnrollRequest } from "../../shared/control/enrollment.ts";
import { type Heartbeat, signHeartbeat } from "../../shared/control/heartbeat.ts";
import { openScenarioDelivery } from "../../shared/control/scenario-delivery.ts";
import { heartbeatSubject } from "../../shared/fluxmsg/subjects.ts";
import {
  generateKeyPair,
  importPublicKey,
  keyFingerprint,
  SEALING_ALGORITHM,
  SIGNING_ALGORITHM,
  verifyPassport,
} from "../../shared/passport/index.ts";
import { enrollRack } from "../src/control/enroll.ts";
import { acceptHeartbeat } from "../src/control/heartbeat.ts";
import type { MixerEnv } from "../src/env.ts";
import { clusterKey } from "../src/registry/cluster-key.ts";
import { blobBytes } from "../src/registry/rack-row.ts";
import { findRack } from "../src/registry/racks.ts";

/** The workers project's bindings (vitest.config.ts), typed. */
export const mixerEnv = env as unknown as MixerEnv;

/** The bootstrap token the workers project's mixer has. */
export const BOOTSTRAP_TOKEN = "workers-bootstrap-token";

/** The mixer's env with some FLUXRIG_* settings changed (its config is loaded per env object). */
export function withSettings(settings: Record<string, string>): MixerEnv {
  return { ...mixerEnv, ...settings };
}

/** How a test rack's enrollment request differs from a well-formed, current one. */
interface EnrollOptions {
  token?: string;
  claims?: Partial<EnrollClaims>;
  /** Rack clock; after the last request's by default. */
  sentAt?: number;
}

/** Hands a signed enrollment request to the mixer, as `flux.ctl.enroll` would, and decodes the reply. */
export async function sendEnrollment(request: Uint8Array, env: MixerEnv = mixerEnv) {
  return decodeEnrollReply((await enrollRack(env, request)).reply);
}

/**
 * A rack as the mixer meets it: fresh identity and sealing keys, and the real signed enrollment and
 * heartbeat messages, handed straight to the mixer's handlers (no bus in the workers project).
 *
 * @example const rack = await testRack("rack-a"); const { passport } = await rack.enroll();
 */
export async function testRack(name: string) {
  const identity = await generateKeyPair(SIGNING_ALGORITHM);
  const sealing = await generateKeyPair(SEALING_ALGORITHM);
  const claims = async (overrides: Partial<EnrollClaims>): Promise<EnrollClaims> => ({
    name,
    ip: "10.0.0.5",
    agent_version: "0.1.0",
    sealing_key: sealing.publicRaw,
    labels: { site: "nyc" },
    heartbeat_interval_ms: 30_000,
    config: { "rack.max_hops": 64 },
    secrets: {},
    ...overrides,
  });
  // Like a real rack's, each request and heartbeat is newer than the last, even within one millisecond.
  let lastSentAt = 0;
  let lastHeartbeatAt = 0;
  const request = async (options: EnrollOptions = {}) => {
    lastSentAt = options.sentAt ?? Math.max(Date.now(), lastSentAt + 1);
    const signed = await claims(options.claims ?? {});
    return signEnrollRequest(signed, identity, options.token ?? BOOTSTRAP_TOKEN, lastSentAt);
  };
  return {
    identity,
    sealing,
    fingerprint: await keyFingerprint(identity.publicRaw),
    /** A signed enrollment request, to send (again) with {@link sendEnrollment}. */
    request,
    /** Sends an enrollment and returns the decoded reply. */
    async enroll(options: EnrollOptions & { env?: MixerEnv } = {}) {
      return sendEnrollment(await request(options), options.env);
    },
    /** Sends a heartbeat signed with this rack's key (or `signer`'s) on its subject. */
    async heartbeat(
      rackId: string,
      fields: Partial<Heartbeat> = {},
      options: { env?: MixerEnv; signer?: CryptoKey } = {},
    ) {
      lastHeartbeatAt = fields.sent_at ?? Math.max(Date.now(), lastHeartbeatAt + 1);
      const heartbeat: Heartbeat = {
        rack_id: rackId,
        boot: 1,
        sent_at: lastHeartbeatAt,
        uptime_ms: 1_000,
        interval_ms: 30_000,
        passport_issued_at: 0,
        gears: "stopped",
        counters: { heartbeats_sent: 1 },
        ...fields,
      };
      const bytes = await signHeartbeat(heartbeat, options.signer ?? identity.privateKey);
      return acceptHeartbeat(options.env ?? mixerEnv, heartbeatSubject(rackId), bytes);
    },
  };
}

/** Verifies a passport against the cluster key the mixer publishes, as a rack that pinned it would. */
export async function verifyWithPublishedKey(passport: Uint8Array, publicRaw: Uint8Array) {
  const key = await importPublicKey(new Uint8Array(publicRaw), SIGNING_ALGORITHM);
  return verifyPassport(passport, { key, fingerprint: await keyFingerprint(new Uint8Array(publicRaw)) });
}

/** The signed scenario part assigned to a rack (what the bridge delivers), opened against the cluster key. */
export async function assignedPart(rackId: string) {
  const row = await findRack(mixerEnv.REGISTRY, "id", rackId);
  const key = await clusterKey(mixerEnv);
  const pinned = {
    key: await importPublicKey(key.publicRaw, SIGNING_ALGORITHM),
    fingerprint: key.fingerprint,
  };
  return openScenarioDelivery(blobBytes(row?.scenario_part ?? null), pinned, rackId);
}
