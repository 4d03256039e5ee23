import { heartbeatSchema } from "../../../shared/control/heartbeat.ts";
import { heartbeatSubject } from "../../../shared/fluxmsg/subjects.ts";
import {
  EnvelopeError,
  fromBase64Url,
  importPublicKey,
  openEnvelope,
  peekEnvelopePayload,
  SIGNING_ALGORITHM,
} from "../../../shared/passport/index.ts";
import { mixerConfig } from "../config.ts";
import type { MixerEnv } from "../env.ts";
import { natsKeys } from "../registry/nats-keys.ts";
import { issueRackPassport } from "../registry/rack-passport.ts";
import { blobBytes, type RackRow } from "../registry/rack-row.ts";
import { findRack, recordHeartbeat } from "../registry/racks.ts";
import { clockAheadReason } from "./rack-clock.ts";

/** What became of a heartbeat: ignored (with why), or recorded, with the passport to send again if stale. */
export type HeartbeatOutcome =
  | { accepted: false; reason: string }
  | { accepted: true; rackId: string; resend?: Uint8Array; resendScenario?: Uint8Array };

/**
 * Handles a heartbeat from `flux.ctl.heartbeat.<rack_id>`: verified with the identity key the registry
 * holds for that rack, then `last_seen`, the interval and the stats are recorded. A revoked rack's
 * heartbeats, replays, forgeries and heartbeats sent far ahead of the mixer's clock change nothing. When the
 * rack reports an older passport than the registry's (a delivery it missed while away), that passport is
 * returned to be delivered again; not within `enrollment.push_delay` of its issue, when a delayed delivery is
 * still due.
 *
 * @example const outcome = await acceptHeartbeat(env, msg.subject, msg.data);
 */
export async function acceptHeartbeat(
  env: MixerEnv,
  subject: string,
  bytes: Uint8Array,
): Promise<HeartbeatOutcome> {
  try {
    return await accept(env, subject, bytes);
  } catch (error) {
    if (error instanceof EnvelopeError) return { accepted: false, reason: error.message };
    throw error;
  }
}

async function accept(env: MixerEnv, subject: string, bytes: Uint8Array): Promise<HeartbeatOutcome> {
  const claimed = peekEnvelopePayload("heartbeat", bytes) as { rack_id?: unknown } | null;
  const rackId = typeof claimed?.rack_id === "string" ? claimed.rack_id : "";
  const rack = rackId ? await findRack(env.REGISTRY, "id", rackId) : null;
  if (!rack) return { accepted: false, reason: `unknown rack "${rackId}"` };
  if (rack.status === "revoked") return { accepted: false, reason: `rack ${rack.id} is revoked` };
  const key = await importPublicKey(fromBase64Url(rack.identity_key), SIGNING_ALGORITHM);
  const parsed = heartbeatSchema.safeParse(
    await openEnvelope("heartbeat", bytes, key, `the identity key of rack ${rack.id}`),
  );
  if (!parsed.success)
    return { accepted: false, reason: `not a heartbeat: ${parsed.error.issues[0]?.message}` };
  const heartbeat = parsed.data;
  if (subject !== heartbeatSubject(rack.id)) {
    return { accepted: false, reason: `heartbeat of rack ${rack.id} arrived on ${subject}` };
  }
  // The scenario report stays in the stats too: `racks show` prints each gear's state from them.
  const { rack_id: _, interval_ms: intervalMs, sent_at: sentAt, ...stats } = heartbeat;
  const { scenario } = heartbeat;
  const now = Date.now();
  const ahead = clockAheadReason(`the heartbeat of rack ${rack.id}`, sentAt, now);
  if (ahead) return { accepted: false, reason: ahead };
  const recorded = await recordHeartbeat(
    env.REGISTRY,
    rack.id,
    { boot: heartbeat.boot, sentAt, intervalMs, stats: JSON.stringify(stats), scenario },
    now,
  );
  if (!recorded) return { accepted: false, reason: `replayed or reordered heartbeat of rack ${rack.id}` };
  const pushDelay = mixerConfig(env).config.enrollment.push_delay;
  const behind = heartbeat.passport_issued_at < rack.passport_issued_at;
  const settled = now - rack.passport_issued_at >= pushDelay;
  // A part the rack does not report holding (missed while away) goes again, once a delayed delivery is past.
  const partMissed =
    rack.status === "active" &&
    rack.scenario_hash !== null &&
    scenario?.hash !== rack.scenario_hash &&
    now - rack.scenario_assigned_at >= pushDelay;
  const renewed = await renewBusCredentials(env, rack, now);
  return {
    accepted: true,
    rackId: rack.id,
    ...(renewed ? { resend: renewed } : behind && settled ? { resend: blobBytes(rack.passport) } : {}),
    ...(partMissed ? { resendScenario: blobBytes(rack.scenario_part) } : {}),
  };
}

/**
 * A new passport for an active rack whose bus JWT has lived half of `snake.user_jwt_ttl` (so it is renewed
 * well before it expires, and at the first heartbeat after the mixer comes back from an outage longer than
 * that); undefined on an open bus or when the current one is young enough.
 */
async function renewBusCredentials(
  env: MixerEnv,
  rack: RackRow,
  now: number,
): Promise<Uint8Array | undefined> {
  if (rack.status !== "active" || !rack.nats_user_key || !natsKeys(env)) return undefined;
  const half = mixerConfig(env).config.snake.user_jwt_ttl / 2;
  if (now - rack.passport_issued_at < half) return undefined;
  return issueRackPassport(env, rack.id);
}
