/**
 * Headers of a dead letter on `flux.dlq.>`, telemetry's and business messages' alike: why it was refused,
 * and (for business messages) which gear refused it.
 */
export const DEAD_LETTER_REASON_HEADER = "Fluxrig-Dead-Letter-Reason";
export const DEAD_LETTER_GEAR_HEADER = "Fluxrig-Dead-Letter-Gear";
/** NATS headers travel inside the message; a reason is cut to this length. */
export const DEAD_LETTER_REASON_MAX = 1_000;
