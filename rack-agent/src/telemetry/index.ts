/** The rack's telemetry client: the one face of this folder. */
export type { Span, SpanContext, SpanEndOptions, SpanOptions } from "./span.ts";
export { type SpoolEntry, spoolEntries } from "./spool.ts";
export type { DropReason, TelemetryStats } from "./stats.ts";
export { DROP_REASONS } from "./stats.ts";
export type { Telemetry, TelemetryOptions } from "./telemetry.ts";
export { createTelemetry } from "./telemetry.ts";
