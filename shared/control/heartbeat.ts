import * as z from "zod";
import { signEnvelope } from "../passport/envelope.ts";

/** Whether a rack's gears run; the one piece of gear state the mixer sees until scenarios arrive. */
export const GEAR_STATES = ["running", "stopped"] as const;
export type GearState = (typeof GEAR_STATES)[number];

/**
 * One gear's state: `failing` when most of its recent messages failed (they were dead-lettered) while it
 * keeps running; `starting` and `draining` while a new scenario part is applied.
 */
export const GEAR_RUN_STATES = ["starting", "running", "failing", "draining", "stopped"] as const;
export type GearRunState = (typeof GEAR_RUN_STATES)[number];

/**
 * How a rack stands with the scenario part it was given: `starting` while it applies it, `running`, or
 * `refused` with why (a gear that cannot start: a port taken, a secret missing). Optional in the heartbeat,
 * so racks and mixers from before scenarios still understand each other (zod drops keys it does not know).
 */
export const SCENARIO_STATES = ["starting", "running", "refused"] as const;
export const scenarioReportSchema = z.object({
  name: z.string().max(256),
  hash: z.string().max(128),
  state: z.enum(SCENARIO_STATES),
  error: z.string().max(2_000).optional(),
  /** Each gear of the part by name. */
  gears: z.record(z.string(), z.enum(GEAR_RUN_STATES)).optional(),
});
export type ScenarioReport = z.infer<typeof scenarioReportSchema>;

/**
 * A rack's heartbeat on `flux.ctl.heartbeat.<rack_id>`: the payload of an envelope signed with the rack's
 * identity key, so no one else on the bus can keep a dead rack looking alive.
 */
export const heartbeatSchema = z.object({
  rack_id: z.uuid(),
  /**
   * The rack's boot stamp, larger at every start of the agent. Heartbeats are ordered by (boot, sent_at): a
   * restarted rack starts a new sequence whatever its clock says; an earlier boot's heartbeat is a replay.
   */
  boot: z.int().positive(),
  /**
   * Rack clock, ms since the epoch; within one boot the mixer ignores a heartbeat not newer than the last it
   * accepted, and refuses one far ahead of its own clock.
   */
  sent_at: z.int().positive(),
  uptime_ms: z.int().nonnegative(),
  /** `rack.heartbeat_interval` in ms: the mixer marks the rack stale after three of them pass in silence. */
  interval_ms: z.int().positive(),
  /** `issued_at` of the passport the rack holds; an older one than the registry's is sent again. */
  passport_issued_at: z.int().nonnegative(),
  gears: z.enum(GEAR_STATES),
  /** The scenario part the rack holds, how it stands, and each of its gears; absent while it has none. */
  scenario: scenarioReportSchema.optional(),
  /** Cumulative counters since the agent started: heartbeats_sent, telemetry records_sent, … */
  counters: z.record(z.string(), z.number()),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

/**
 * A heartbeat signed with the rack's identity key, ready to publish on `heartbeatSubject(rack_id)`.
 *
 * @example nc.publish(heartbeatSubject(id), await signHeartbeat(heartbeat, keys.identity.privateKey));
 */
export function signHeartbeat(heartbeat: Heartbeat, identityPrivateKey: CryptoKey): Promise<Uint8Array> {
  return signEnvelope("heartbeat", heartbeatSchema.parse(heartbeat), identityPrivateKey);
}
