import type { TelemetryKind } from "../telemetry/records.ts";

/**
 * Subject names on Snake. Telemetry lives under its own prefix: the business stream captures `fluxrig.>`,
 * and JetStream refuses two streams with overlapping subjects.
 */
export const TELEMETRY_PREFIX = "flux.telemetry";
export const TELEMETRY_STREAM = "flux-telemetry";
/** Everything the telemetry stream captures; the mixer's consumer reads only the telemetry part. */
export const TELEMETRY_FILTER = `${TELEMETRY_PREFIX}.>`;
export const DEAD_LETTER_PREFIX = "flux.dlq";
/** Every dead-letter subject; the telemetry stream keeps them so a bad message is never lost. */
export const DEAD_LETTER_FILTER = `${DEAD_LETTER_PREFIX}.>`;
export const TELEMETRY_DEAD_LETTER = `${DEAD_LETTER_PREFIX}.telemetry`;
/** The mixer's durable consumer on the telemetry stream. */
export const TELEMETRY_CONSUMER = "mixer-ingest";

/**
 * Journal records (business messages as they crossed gears, bound for `messages/` in storage): their own
 * prefix, so bus permissions and the stream can tell business records from telemetry. The telemetry stream
 * captures it; the mixer reads it with its own durable consumer.
 */
export const JOURNAL_PREFIX = "flux.journal";
export const JOURNAL_FILTER = `${JOURNAL_PREFIX}.>`;
/** The mixer's durable consumer of journal records on the telemetry stream. */
export const JOURNAL_CONSUMER = "mixer-journal";
/** Where the mixer puts journal batches and records it refuses: `flux.dlq.journal.<rack>`. */
export const JOURNAL_DEAD_LETTER = `${DEAD_LETTER_PREFIX}.journal`;

/** Reduces a name to one valid subject token (no dots, spaces or wildcards). */
export function subjectToken(name: string): string {
  const token = name.replace(/[^A-Za-z0-9_-]/g, "_");
  return token === "" ? "_" : token;
}

/** `flux.telemetry.logs.rack-nyc-01` */
export function telemetrySubject(kind: TelemetryKind, entityName: string): string {
  return `${TELEMETRY_PREFIX}.${kind}.${subjectToken(entityName)}`;
}

/** `flux.journal.rack-nyc-01`: one rack's journal record batches. */
export function journalSubject(entityName: string): string {
  return `${JOURNAL_PREFIX}.${subjectToken(entityName)}`;
}

/**
 * The control plane between racks and the mixer: core NATS (no stream captures `flux.ctl.>`; a request on a
 * captured subject would race JetStream's publish ack against the real answer).
 */
export const CONTROL_PREFIX = "flux.ctl";
/** Request/reply: a rack enrolls, the mixer answers with a passport. */
export const ENROLL_SUBJECT = `${CONTROL_PREFIX}.enroll`;
const HEARTBEAT_PREFIX = `${CONTROL_PREFIX}.heartbeat`;
/** What the mixer subscribes to for every rack's heartbeats. */
export const HEARTBEAT_FILTER = `${HEARTBEAT_PREFIX}.*`;

/** `flux.ctl.heartbeat.<rack_id>`: a rack's heartbeats to the mixer. */
export function heartbeatSubject(rackId: string): string {
  return `${HEARTBEAT_PREFIX}.${subjectToken(rackId)}`;
}

/** `flux.ctl.passport.<rack_id>`: the mixer delivers a re-signed passport to one rack. */
export function passportSubject(rackId: string): string {
  return `${CONTROL_PREFIX}.passport.${subjectToken(rackId)}`;
}

/** Business messages between gears on guaranteed lanes; the business stream captures `flux.msg.>`. */
export const FLUX_MSG_PREFIX = "flux.msg";

/**
 * `flux.msg.<rack>.<gear>.<port>`: the subject of a guaranteed lane, named for the input port that receives it.
 *
 * @example fluxMsgSubject("core", "authorizer", "in") // "flux.msg.core.authorizer.in"
 */
export function fluxMsgSubject(rack: string, gear: string, port: string): string {
  return `${FLUX_MSG_PREFIX}.${subjectToken(rack)}.${subjectToken(gear)}.${subjectToken(port)}`;
}

/**
 * `flux.dlq.msg.<rack>`: business messages a rack refused (a gear threw, a limit was exceeded), with the
 * reason in the `Fluxrig-Dead-Letter-Reason` header. The telemetry stream keeps `flux.dlq.>`.
 *
 * @example businessDeadLetterSubject("rack-nyc-01") // "flux.dlq.msg.rack-nyc-01"
 */
export function businessDeadLetterSubject(rackName: string): string {
  return `${DEAD_LETTER_PREFIX}.msg.${subjectToken(rackName)}`;
}

/** `flux.ctl.scenario.<rack_id>`: the mixer delivers a rack its signed scenario part. */
export function scenarioSubject(rackId: string): string {
  return `${CONTROL_PREFIX}.scenario.${subjectToken(rackId)}`;
}

/**
 * The rack a telemetry or journal subject names (its last token, as {@link subjectToken} made it).
 *
 * @example subjectRack("flux.telemetry.logs.rack-nyc-01") // "rack-nyc-01"
 */
export function subjectRack(subject: string): string {
  return subject.slice(subject.lastIndexOf(".") + 1);
}
