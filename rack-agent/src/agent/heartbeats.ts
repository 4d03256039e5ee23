import { clearInterval, setInterval } from "node:timers";
import type { NatsConnection } from "@nats-io/nats-core";
import { type Heartbeat, signHeartbeat } from "../../../shared/control/heartbeat.ts";
import { heartbeatSubject } from "../../../shared/fluxmsg/subjects.ts";

export interface HeartbeatOptions {
  nc: NatsConnection;
  rackId: string;
  /** This start's boot stamp (`nextBootStamp`). */
  boot: number;
  identityKey: CryptoKey;
  /** `rack.heartbeat_interval` in ms. */
  intervalMs: number;
  /** What the rack reports right now: its passport's issue time, its gears, its counters. */
  state: () => Pick<Heartbeat, "passport_issued_at" | "gears" | "counters" | "scenario">;
  /** Told the running count after each heartbeat (to count them as a metric). */
  onSent: (sent: number) => void;
  warn: (message: string) => void;
}

/**
 * Sends a signed heartbeat on `flux.ctl.heartbeat.<rack_id>` now and every `intervalMs`, carrying uptime,
 * gear state and counters; `now()` sends one at once (so the mixer sees a change without waiting an
 * interval). While the bus is down, nats.js holds them until it is back.
 *
 * @example const heartbeats = startHeartbeats({ nc, rackId, boot, identityKey, intervalMs, state, onSent, warn });
 */
export function startHeartbeats(options: HeartbeatOptions): { now(): void; stop(): void } {
  const started = Date.now();
  let sent = 0;
  let lastSentAt = 0;
  const beat = async () => {
    // Strictly increasing within a burst (two in one millisecond): the mixer ignores a heartbeat not newer than
    // the last. But a clock set back is followed, not ratcheted over: values kept above a clock that ran ahead
    // would be refused until real time caught up, while the mixer takes the clock's again within 5 minutes.
    const now = Date.now();
    lastSentAt = now > lastSentAt || now < lastSentAt - 1_000 ? now : lastSentAt + 1;
    const heartbeat: Heartbeat = {
      rack_id: options.rackId,
      boot: options.boot,
      sent_at: lastSentAt,
      uptime_ms: Date.now() - started,
      interval_ms: options.intervalMs,
      ...options.state(),
    };
    heartbeat.counters = { ...heartbeat.counters, heartbeats_sent: sent + 1 };
    options.nc.publish(heartbeatSubject(options.rackId), await signHeartbeat(heartbeat, options.identityKey));
    sent++;
    options.onSent(sent);
  };
  const safeBeat = () =>
    beat().catch((error: unknown) => options.warn(`heartbeat not sent: ${(error as Error).message}`));
  void safeBeat();
  const timer = setInterval(safeBeat, options.intervalMs);
  return { now: () => void safeBeat(), stop: () => clearInterval(timer) };
}
