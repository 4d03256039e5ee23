import type { BridgeStatus } from "./bridge-status.ts";

/**
 * How long the bus may be away before /health says so: a nats-server restart or a websocket hiccup heals in
 * a few seconds (the bridge redials every second), and a load balancer should not drop a mixer for that.
 */
export const BUS_GRACE_MS = 10_000;

/** A part that is failing now, as /health names it. */
export interface FailingPart {
  part: "store" | "bus";
  since: string | null;
  last_error: string | null;
}

/**
 * `ok`, or `degraded` with the failing parts: the store while its last write failed (ingest or the mixer's
 * own telemetry), the bus while the bridge has been without NATS for more than {@link BUS_GRACE_MS}.
 *
 * @example healthVerdict(await snakeBridge(env).status(), Date.now()) // { status: "ok", failing: [] }
 */
export function healthVerdict(
  bridge: BridgeStatus,
  now: number,
): { status: "ok" | "degraded"; failing: FailingPart[] } {
  const failing: FailingPart[] = [];
  // The store fails while any ingest bridge's last write failed (bridge 0's also counts the mixer's own telemetry).
  const store = bridge.bridges.map((one) => one.store).find((part) => part.consecutive_failures > 0);
  if (store) {
    failing.push({
      part: "store",
      since: store.last_success_at ?? store.last_failure_at,
      last_error: store.last_error,
    });
  }
  const downSince = bridge.health.busDownSince;
  if (!bridge.connected && downSince !== null && now - Date.parse(downSince) > BUS_GRACE_MS) {
    failing.push({ part: "bus", since: downSince, last_error: bridge.lastError });
  }
  return { status: failing.length ? "degraded" : "ok", failing };
}
