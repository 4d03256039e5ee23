import type { Msg, NatsConnection } from "@nats-io/nats-core";
import type { EnrollReply } from "../../../shared/control/enrollment.ts";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import {
  ENROLL_SUBJECT,
  HEARTBEAT_FILTER,
  passportSubject,
  scenarioSubject,
} from "../../../shared/fluxmsg/subjects.ts";
import type { MixerEnv } from "../env.ts";
import { blobBytes } from "../registry/rack-row.ts";
import { findRack } from "../registry/racks.ts";
import { enrollRack } from "./enroll.ts";
import { acceptHeartbeat } from "./heartbeat.ts";

/** The mixer's side of the control plane on one NATS connection. */
export interface ControlPlane {
  /** Publishes a rack's current passport (from the registry) on `flux.ctl.passport.<rack_id>`. */
  deliverPassport(rackId: string): Promise<void>;
  /** Publishes a rack's signed scenario part (from the registry) on `flux.ctl.scenario.<rack_id>`. */
  deliverScenario(rackId: string): Promise<void>;
}

/**
 * Answers enrollments on `flux.ctl.enroll` and records heartbeats from `flux.ctl.heartbeat.*` on `nc`.
 * nats.js renews the subscriptions itself after a reconnect; a new connection needs a new control plane.
 *
 * @example this.control = startControlPlane(nc, this.env);
 */
export function startControlPlane(nc: NatsConnection, env: MixerEnv): ControlPlane {
  const deliverPassport = async (rackId: string) => {
    const rack = await findRack(env.REGISTRY, "id", rackId);
    const passport = rack ? blobBytes(rack.passport) : new Uint8Array();
    if (passport.length > 0) nc.publish(passportSubject(rackId), passport);
  };
  const deliverScenario = async (rackId: string) => {
    const rack = await findRack(env.REGISTRY, "id", rackId);
    const part = rack && rack.status === "active" ? blobBytes(rack.scenario_part) : new Uint8Array();
    if (part.length > 0) nc.publish(scenarioSubject(rackId), part);
  };

  const enroll = async (msg: Msg) => {
    try {
      const { reply, outcome } = await enrollRack(env, msg.data);
      msg.respond(reply);
      if (outcome.kind === "refused") console.warn(`control: enrollment refused: ${outcome.reason}`);
      else
        console.log(`control: rack ${outcome.name} (${outcome.rackId}) ${outcome.kind}, ${outcome.status}`);
    } catch (error) {
      console.error(`control: enrollment failed: ${(error as Error).stack ?? error}`);
      const reply: EnrollReply = {
        ok: false,
        error: `the mixer failed to enroll: ${(error as Error).message}`,
      };
      msg.respond(cbor.encode(reply));
    }
  };

  const heartbeat = async (msg: Msg) => {
    try {
      const outcome = await acceptHeartbeat(env, msg.subject, msg.data);
      if (!outcome.accepted) console.warn(`control: heartbeat on ${msg.subject} ignored: ${outcome.reason}`);
      else {
        if (outcome.resend) nc.publish(passportSubject(outcome.rackId), outcome.resend);
        if (outcome.resendScenario) nc.publish(scenarioSubject(outcome.rackId), outcome.resendScenario);
      }
    } catch (error) {
      console.error(`control: heartbeat on ${msg.subject} failed: ${(error as Error).stack ?? error}`);
    }
  };

  const serve = (subject: string, handle: (msg: Msg) => Promise<void>) =>
    nc.subscribe(subject, {
      callback: (error, msg) => {
        if (error) console.error(`control: subscription ${subject}: ${error.message}`);
        else void handle(msg);
      },
    });
  serve(ENROLL_SUBJECT, enroll);
  serve(HEARTBEAT_FILTER, heartbeat);
  return { deliverPassport, deliverScenario };
}
