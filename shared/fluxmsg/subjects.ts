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
export const TELEMETRY_DEAD_LETTER = `${DEAD_LETTER_PREFIX}.telemetry`;
/** The mixer's durable consumer on the telemetry stream. */
export const TELEMETRY_CONSUMER = "mixer-ingest";

/** Reduces a name to one valid subject token (no dots, spaces or wildcards). */
export function subjectToken(name: string): string {
  const token = name.replace(/[^A-Za-z0-9_-]/g, "_");
  return token === "" ? "_" : token;
}

/** `flux.telemetry.logs.rack-nyc-01` */
export function telemetrySubject(kind: TelemetryKind, entityName: string): string {
  return `${TELEMETRY_PREFIX}.${kind}.${subjectToken(entityName)}`;
}
