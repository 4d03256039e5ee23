import { Hono } from "hono";
import pkg from "../../../package.json" with { type: "json" };
import { redactUrls } from "../../../shared/redact/url-credentials.ts";
import { snakeBridge } from "../bridge/bridge-stub.ts";
import { healthVerdict } from "../bridge/health-verdict.ts";
import type { MixerBindings } from "../env.ts";
import { mixerId } from "../registry/mixer-identity.ts";

/**
 * `GET /health`: unauthenticated liveness and ingest state, for operators, load balancers and the dev
 * launcher. `ok` (200), or `degraded` (503, so a load balancer notices) naming each failing part (`store`
 * while R2 writes fail, `bus` while NATS has been away past a grace period) with its last error.
 */
export const health = new Hono<MixerBindings>().get("/", async (c) => {
  const [id, bridge] = await Promise.all([mixerId(c.env.REGISTRY), snakeBridge(c.env).status()]);
  const verdict = healthVerdict(bridge, Date.now());
  const redact = (text: string | null) => (text === null ? null : redactUrls(text));
  return c.json(
    {
      status: verdict.status,
      failing: verdict.failing.map((part) => ({ ...part, last_error: redact(part.last_error) })),
      mixer_id: id,
      version: pkg.version,
      nats: {
        connected: bridge.connected,
        url: redactUrls(bridge.url),
        last_error: redact(bridge.lastError),
        down_since: bridge.health.busDownSince,
        failures: bridge.health.bus.failures,
      },
      store: { ...bridge.health.store, last_error: redact(bridge.health.store.last_error) },
      api: bridge.health.api,
      self_telemetry: bridge.selfTelemetry,
      ingest: {
        last_flush_at: bridge.lastFlushAt,
        pending_records: bridge.pendingRecords,
        pending_messages: bridge.pendingMessages,
        records_stored: bridge.recordsStored,
        objects_written: bridge.objectsWritten,
        bytes_written: bridge.bytesWritten,
        flushes: bridge.flushes,
        timing_ms: {
          decode: Math.round(bridge.timing.decodeMs),
          encode: Math.round(bridge.timing.encodeMs),
          put: Math.round(bridge.timing.putMs),
          ack: Math.round(bridge.timing.ackMs),
        },
        messages_dead_lettered: bridge.messagesDeadLettered,
        records_dead_lettered: bridge.recordsDeadLettered,
      },
      // Per lane (enroll, heartbeat): received = processed + shed + queue_depth + in_flight.
      control: bridge.control,
    },
    verdict.status === "ok" ? 200 : 503,
    { "cache-control": "no-store" },
  );
});
