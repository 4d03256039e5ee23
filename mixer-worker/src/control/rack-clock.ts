import { formatDuration } from "../../../shared/config/index.ts";

/**
 * How far ahead of the mixer's clock a rack's `sent_at` may be. Enrollments and heartbeats must each be newer,
 * by the rack's clock, than the last one accepted: that refuses a replay from the bus. Without a bound, one
 * message from a board whose clock ran ahead would set that mark in the future, and every later message would
 * be refused as a "replay" until the real time caught up. Five minutes is far above the skew of NTP-synced
 * clocks plus bus latency, and is also the longest a rack whose clock was set back can be refused before its
 * clock passes the mark again.
 */
export const MAX_CLOCK_AHEAD_MS = 5 * 60_000;

/**
 * Why a rack's `sentAt` is refused as too far ahead of the mixer's clock `now`, or undefined when it is not.
 *
 * @example const reason = clockAheadReason("the heartbeat", heartbeat.sent_at, Date.now());
 */
export function clockAheadReason(what: string, sentAt: number, now: number): string | undefined {
  const ahead = sentAt - now;
  if (ahead <= MAX_CLOCK_AHEAD_MS) return undefined;
  return (
    `${what} was sent at ${new Date(sentAt).toISOString()} by the rack's clock, ${formatDuration(ahead)} ahead of ` +
    `the mixer's (at most ${formatDuration(MAX_CLOCK_AHEAD_MS)} is accepted): set the rack's clock right (NTP)`
  );
}
