import { Hono } from "hono";
import pkg from "../../../package.json" with { type: "json" };
import { redactUrls } from "../../../shared/redact/url-credentials.ts";
import { snakeBridge } from "../bridge/bridge-stub.ts";
import type { MixerBindings } from "../env.ts";
import { mixerId } from "../registry/mixer-identity.ts";

/** `GET /health`: unauthenticated liveness and ingest state, for operators and the dev launcher. */
export const health = new Hono<MixerBindings>().get("/", async (c) => {
  const [id, bridge] = await Promise.all([mixerId(c.env.REGISTRY), snakeBridge(c.env).status()]);
  return c.json({
    status: bridge.connected ? "ok" : "degraded",
    mixer_id: id,
    version: pkg.version,
    nats: {
      connected: bridge.connected,
      url: redactUrls(bridge.url),
      last_error: bridge.lastError === null ? null : redactUrls(bridge.lastError),
    },
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
  });
});
