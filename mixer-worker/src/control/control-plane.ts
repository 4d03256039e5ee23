import { Empty, headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import type { EnrollReply } from "../../../shared/control/enrollment.ts";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";

import {
  ENROLL_SUBJECT,
  HEARTBEAT_FILTER,
  passportSubject,
  scenarioSubject,
} from "../../../shared/fluxmsg/subjects.ts";
import { EnvelopeError, peekEnvelopePayload, toBase64Url } from "../../../shared/passport/index.ts";

import type { MixerEnv } from "../env.ts";
import { blobBytes } from "../registry/rack-row.ts";
import { findRack } from "../registry/racks.ts";
import { consoleLine } from "../self/console-line.ts";
import { ControlLane, type ControlLaneStats, type ControlMessage, type ShedReason } from "./control-lane.ts";
import { ENROLL_LANE, HEARTBEAT_LANE } from "./control-limits.ts";
import { enrollRack } from "./enroll.ts";
import { acceptHeartbeat } from "./heartbeat.ts";

/** The mixer's side of the control plane on one NATS connection. */
export interface ControlPlane {
  /** Publishes a rack's current passport (from the registry) on `flux.ctl.passport.<rack_id>`. */
  deliverPassport(rackId: string): Promise<void>;
  /** Publishes a rack's signed scenario part (from the registry) on `flux.ctl.scenario.<rack_id>`. */
  deliverScenario(rackId: string): Promise<void>;
  /** Counters of each lane since this connection opened; cheap. */
  stats(): ControlStats;
}

export type ControlStats = Record<"enroll" | "heartbeat", ControlLaneStats>;

/**
 * The answer to an enrollment shed for load: NATS's own "no responders" status (503, no payload), which a
 * rack's enrollment already treats as "no mixer yet" and retries after `snake.reconnect_wait`. An `ok: false`
 * reply would be final: the rack stops and reports the refusal.
 */
const BUSY = { headers: headers(503, "mixer busy, retry") };

/** Undecodable enrollments share one rate-limit bucket. */
const UNREADABLE = "(unreadable)";

/**
 * The sender an enrollment counts against: the identity key and name it presents (not yet verified: the
 * check is what the limit saves). It is decoded only for a request that could be queued.
 */
function enrollmentKey(message: ControlMessage): string {
  try {
    const claimed = peekEnvelopePayload("enroll", message.data) as { identity_key?: unknown; name?: unknown };
    const key =
      claimed?.identity_key instanceof Uint8Array ? toBase64Url(claimed.identity_key.subarray(0, 32)) : "";
    const name = typeof claimed?.name === "string" ? claimed.name.slice(0, 253) : "";
    return `${key} ${name}`;
  } catch (error) {
    if (error instanceof EnvelopeError) return UNREADABLE;
    throw error;
  }
}

/** Heartbeats count against their subject, which names the rack (cut short: anyone can make up a long one). */
const heartbeatKey = (message: ControlMessage) => message.subject.slice(0, 128);

/**
 * Feeds `subject` to `lane` in grants: each subscription asks nats-server for at most `lane.limits.grant`
 * messages (`UNSUB <sid> <max>`, which the server enforces), and the next is made only once the lane's
 * queue is at most half full. So a flood reaches the bridge a grant at a time and the server drops the rest
 * itself: heartbeats to no one, and enrollment requests answered "no responders" (503), which a rack
 * retries. Reading a message costs the bridge's isolate more than shedding it, and a burst the server has
 * already sent must be read before anything else, /health included. When the queue fills within a grant,
 * the grant is drained early: what the server sent before it took the unsubscribe still reaches the lane (to
 * be shed and, for a request, answered), instead of nats.js discarding it unseen. nats.js renews a live
 * subscription, with what is left of its grant, after a reconnect.
 */
function feedLane(nc: NatsConnection, subject: string, lane: () => ControlLane, take: (msg: Msg) => void) {
  let current: Subscription | undefined;
  const open = () => {
    if (nc.isClosed() || current) return;
    const { grant } = lane().limits;
    let delivered = 0;
    const subscription = nc.subscribe(subject, {
      max: grant,
      callback: (error, msg) => {
        if (error) {
          consoleLine("error", `control: subscription ${subject}: ${error.message}`);
          return;
        }
        try {
          take(msg);
        } catch (failure) {
          // nats.js does not catch a callback's throw: it would end the connection's reader.
          consoleLine(
            "error",
            `control: taking a message on ${subject} failed: ${(failure as Error).stack ?? failure}`,
          );
        }
        if (++delivered === grant && current === subscription) {
          current = undefined;
          lane().whenReady(open);
        }
      },
    });
    current = subscription;
  };
  const pause = () => {
    const draining = current;
    current = undefined;
    if (draining && !nc.isClosed()) {
      draining.drain().catch((error: unknown) => {
        consoleLine("error", `control: pausing ${subject}: ${(error as Error).message}`);
      });
    }
    lane().whenReady(open);
  };
  return { open, pause };
}

/**
 * Answers enrollments on `flux.ctl.enroll` and records heartbeats from `flux.ctl.heartbeat.*` on `nc`, each
 * kind through its own {@link ControlLane} (bounds in control-limits.ts) fed in grants by {@link feedLane}: a
 * flood is dropped by nats-server or shed and counted here, never queued without bound, and the connection
 * keeps up with the server. A shed enrollment request is told "busy" (retry) or, when too large, refused.
 * A new connection needs a new control plane.
 *
 * @example this.control = startControlPlane(nc, this.env);
 */
export function startControlPlane(nc: NatsConnection, env: MixerEnv): ControlPlane {
  // Deliveries publish in the order they were asked for, each after its registry read: a rack must get the
  // passport whose bus JWT allows a new part's lanes before the part itself.
  let deliveries: Promise<unknown> = Promise.resolve();
  const inOrder = (publish: () => Promise<void>): Promise<void> => {
    const delivered = deliveries.then(publish);
    deliveries = delivered.catch(() => undefined);
    return delivered;
  };
  const deliverPassport = (rackId: string) =>
    inOrder(async () => {
      const rack = await findRack(env.REGISTRY, "id", rackId);
      const passport = rack ? blobBytes(rack.passport) : new Uint8Array();
      if (passport.length > 0) nc.publish(passportSubject(rackId), passport);
    });
  const deliverScenario = (rackId: string) =>
    inOrder(async () => {
      const rack = await findRack(env.REGISTRY, "id", rackId);
      const part = rack && rack.status === "active" ? blobBytes(rack.scenario_part) : new Uint8Array();
      if (part.length > 0) nc.publish(scenarioSubject(rackId), part);
    });

  const respond = (message: ControlMessage, reply: EnrollReply) => {
    if (message.reply) nc.publish(message.reply, cbor.encode(reply));
  };

  const enrollFeed = feedLane(
    nc,
    ENROLL_SUBJECT,
    () => enroll,
    (msg) => {
      const shed = enroll.offer(msg);
      if (shed) refuseShedEnrollment(msg, shed);
    },
  );
  const enroll = new ControlLane("enroll", ENROLL_LANE, {
    pause: enrollFeed.pause,
    keyOf: enrollmentKey,
    handle: async (message, warn) => {
      try {
        const { reply, outcome } = await enrollRack(env, message.data);
        if (message.reply) nc.publish(message.reply, reply);
        if (outcome.kind === "refused") warn(`control: enrollment refused: ${outcome.reason}`);
        else
          consoleLine(
            "info",
            `control: rack ${outcome.name} (${outcome.rackId}) ${outcome.kind}, ${outcome.status}`,
          );
      } catch (error) {
        respond(message, { ok: false, error: `the mixer failed to enroll: ${(error as Error).message}` });
        throw error;
      }
    },
  });

  const heartbeatFeed = feedLane(
    nc,
    HEARTBEAT_FILTER,
    () => heartbeat,
    (msg) => heartbeat.offer(msg),
  );
  const heartbeat = new ControlLane("heartbeat", HEARTBEAT_LANE, {
    pause: heartbeatFeed.pause,
    keyOf: heartbeatKey,
    handle: async (message, warn) => {
      const outcome = await acceptHeartbeat(env, message.subject, message.data);
      if (!outcome.accepted) warn(`control: heartbeat on ${message.subject} ignored: ${outcome.reason}`);
      else {
        if (outcome.resend) nc.publish(passportSubject(outcome.rackId), outcome.resend);
        if (outcome.resendScenario) nc.publish(scenarioSubject(outcome.rackId), outcome.resendScenario);
      }
    },
  });

  const refuseShedEnrollment = (msg: Msg, reason: ShedReason) => {
    if (!msg.reply) return;
    if (reason !== "oversize") msg.respond(Empty, BUSY);
    else {
      const limit = `${ENROLL_LANE.maxMessageBytes / 1024} KiB`;
      respond(msg, {
        ok: false,
        error: `the enrollment request is ${msg.data.byteLength} bytes, over the mixer's ${limit} for one: fewer or smaller secrets, labels or settings`,
      });
    }
  };

  enrollFeed.open();
  heartbeatFeed.open();
  return {
    deliverPassport,
    deliverScenario,
    stats: () => ({ enroll: enroll.stats(), heartbeat: heartbeat.stats() }),
  };
}
