import type { Permissions } from "@nats-io/jwt";
import {
  businessDeadLetterSubject,
  ENROLL_SUBJECT,
  heartbeatSubject,
  JOURNAL_PREFIX,
  journalSubject,
  passportSubject,
  scenarioSubject,
  subjectToken,
  TELEMETRY_PREFIX,
} from "../fluxmsg/subjects.ts";
import { ownLaneInput, type ScenarioPart } from "../scenario/index.ts";

/** Where an enrolling rack's replies come back: its own prefix, so the enrollment user reads no other inbox. */
export const ENROLLMENT_INBOX_PREFIX = "_INBOX_ENROLL";

/**
 * A rack's inbox prefix (`_INBOX.<rack_id>`): request replies, JetStream publish acks and pull-consumer
 * deliveries come back under it, and a rack may subscribe to nothing else but its passport and scenario.
 */
export function rackInboxPrefix(rackId: string): string {
  return `_INBOX.${subjectToken(rackId)}`;
}

/** What a rack's user JWT is cut for. */
export interface RackBusScope {
  rackId: string;
  rackName: string;
  /** `snake.domain`: JetStream API calls go to `$JS.<domain>.API.>`. */
  domain: string;
  /** `snake.stream_name`: the business stream whose durables a rack's lanes create and pull. */
  businessStream: string;
  /** The lanes of the scenario part assigned to the rack: the only business subjects and durables it may use. */
  lanes?: Pick<ScenarioPart, "publish" | "consume">;
}

/** The JetStream API subjects under both prefixes a client may use (with and without the domain). */
function jsApi(domain: string, ...calls: string[]): string[] {
  return calls.flatMap((call) => [`$JS.API.${call}`, `$JS.${domain}.API.${call}`]);
}

/**
 * What a rack may do on the business stream, as its scenario part wires it: publish to the lanes its gears
 * emit onto (on a returning lane, also to `<subject>.<rack>`, whichever rack of the alias it goes back to),
 * and create, read, pull and ack only the durables of its own inputs, each with its own filter: the filter is
 * part of the create subject (`CONSUMER.CREATE.<stream>.<durable>.<filter>`, nats-server 2.9), so a rack
 * cannot point a durable of its own at another rack's lane. No part, no business subject.
 */
function laneGrants(scope: RackBusScope): string[] {
  const { lanes, businessStream: stream, domain } = scope;
  if (!lanes) return [];
  const publish = lanes.publish.flatMap((lane) =>
    lane.returnTo ? [lane.subject, `${lane.subject}.*`] : [lane.subject],
  );
  const inputs = lanes.consume.flatMap((input) =>
    input.returning ? [input, ownLaneInput(input, scope.rackName)] : [input],
  );
  const consumers = inputs.flatMap(({ durable, subject }) => [
    ...jsApi(
      domain,
      `CONSUMER.INFO.${stream}.${durable}`,
      `CONSUMER.CREATE.${stream}.${durable}.${subject}`,
      `CONSUMER.MSG.NEXT.${stream}.${durable}`,
    ),
    `$JS.ACK.${stream}.${durable}.>`,
    `$JS.ACK.${domain}.*.${stream}.${durable}.>`,
  ]);
  return [...new Set([...publish, ...consumers])];
}

/**
 * A rack's bus permissions: publish only its own telemetry (`flux.telemetry.*.<name>`), journal, business
 * dead letters and heartbeat, enrollment requests (a renamed rack enrolls again), the lanes and durables of
 * its scenario part ({@link laneGrants}), and the stream info its lanes read. No stream management, no
 * consumer delete, nothing on the telemetry stream. Subscribe only its own inbox, passport and scenario
 * subjects.
 *
 * @example const permissions = rackPermissions({ rackId, rackName: "rack-a", domain: "flux", businessStream: "flux-msg", lanes: part });
 */
export function rackPermissions(scope: RackBusScope): Permissions {
  const name = subjectToken(scope.rackName);
  return {
    pub: {
      allow: [
        `${TELEMETRY_PREFIX}.*.${name}`,
        journalSubject(scope.rackName),
        businessDeadLetterSubject(scope.rackName),
        heartbeatSubject(scope.rackId),
        ENROLL_SUBJECT,
        // Account info: nats.js's jetstreamManager() asks it first (checkAPI), and a refused request times out.
        ...jsApi(scope.domain, "INFO", `STREAM.INFO.${scope.businessStream}`),
        ...laneGrants(scope),
      ],
    },
    sub: {
      allow: [
        `${rackInboxPrefix(scope.rackId)}.>`,
        passportSubject(scope.rackId),
        scenarioSubject(scope.rackId),
      ],
    },
  };
}

/**
 * What a rack may do on the bus while it is not active (pending, suspended) or its active JWT has expired:
 * heartbeats and enrollment out, its inbox and passport in. Enough for the mixer to see it and send it a new
 * passport (adoption, renewal), nothing of the data planes.
 */
export function rackStandbyPermissions(scope: Pick<RackBusScope, "rackId">): Permissions {
  return {
    pub: { allow: [heartbeatSubject(scope.rackId), ENROLL_SUBJECT] },
    // Its scenario subject too, though nothing is sent there until it is active: a subscription the server
    // refused is closed for good, and the agent subscribes once, before an approval reconnects it as active.
    sub: {
      allow: [
        `${rackInboxPrefix(scope.rackId)}.>`,
        passportSubject(scope.rackId),
        scenarioSubject(scope.rackId),
      ],
    },
  };
}

/** The enrollment user's: request `flux.ctl.enroll` and read the answer, nothing else. */
/**
 * What `fluxrig emit` may do on a local mixer's bus: publish telemetry and journal records under any entity
 * name (the ingest still checks that a record's entity is the one its subject names) and read the acks.
 */
export function emitPermissions(): Permissions {
  return {
    pub: { allow: [`${TELEMETRY_PREFIX}.>`, `${JOURNAL_PREFIX}.>`] },
    sub: { allow: ["_INBOX.>"] },
  };
}

export function enrollmentPermissions(): Permissions {
  return {
    pub: { allow: [ENROLL_SUBJECT] },
    sub: { allow: [`${ENROLLMENT_INBOX_PREFIX}.>`] },
  };
}
