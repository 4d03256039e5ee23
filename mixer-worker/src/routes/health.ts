import { Hono } from "hono";
import pkg from "../../../package.json" with { type: "json" };
import { redactUrls } from "../../../shared/redact/url-credentials.ts";
import { snakeBridge } from "../bridge/bridge-stub.ts";
import { healthVerdict } from "../bridge/health-verdict.ts";
import { storeCompactor } from "../compactor/compactor-stub.ts";
import type { MixerBindings } from "../env.ts";
import type { IngestCounters } from "../ingest/ingest-pump.ts";
import { mixerId } from "../registry/mixer-identity.ts";

/**
 * `GET /health`: unauthenticated liveness and ingest state, for operators, load balancers and the dev
 * launcher. `ok` (200), or `degraded` (503, so a load balancer notices) naming each failing part (`store`
 * while R2 writes fail, `bus` while NATS has been away past a grace period) with its last error.
 */
export const health = new Hono<MixerBindings>().get("/", async (c) => {
  const [id, bridge, compaction] = await Promise.all([
    mixerId(c.env.REGISTRY),
    snakeBridge(c.env).status(),
    // The compactor's status is for the operator: a compactor that cannot answer must not fail the check.
    storeCompactor(c.env)
      .status()
      .catch((error: unknown) => ({ error: redactUrls(String((error as Error)?.message ?? error)) })),
  ]);
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
      // Summed over the ingest bridges (ingest.bridges); `bridges` has each one's share.
      ingest: {
        ...ingestCounters(bridge.telemetry),
        bridges: bridge.bridges.map((one) => ({
          index: one.index,
          connected: one.connected,
          last_error: redact(one.lastError),
          records_stored: one.telemetry.recordsStored + one.journal.recordsStored,
          pending_records: one.telemetry.pendingRecords + one.journal.pendingRecords,
          store_failures: one.store.failures,
        })),
      },
      // The journal's own consumer (mixer-journal): business messages into messages/.
      journal: ingestCounters(bridge.journal),
      // Per lane (enroll, heartbeat): received = processed + shed + queue_depth + in_flight.
      control: bridge.control,
      // The store's compactor: partitions waiting, and what its last pass did (README "Compaction").
      compaction,
    },
    verdict.status === "ok" ? 200 : 503,
    { "cache-control": "no-store" },
  );
});

function ingestCounters(pump: IngestCounters) {
  return {
    last_flush_at: pump.lastFlushAt,
    pending_records: pump.pendingRecords,
    pending_messages: pump.pendingMessages,
    records_stored: pump.recordsStored,
    objects_written: pump.objectsWritten,
    bytes_written: pump.bytesWritten,
    flushes: pump.flushes,
    timing_ms: {
      decode: Math.round(pump.timing.decodeMs),
      encode: Math.round(pump.timing.encodeMs),
      put: Math.round(pump.timing.putMs),
      ack: Math.round(pump.timing.ackMs),
    },
    messages_dead_lettered: pump.messagesDeadLettered,
    records_dead_lettered: pump.recordsDeadLettered,
  };
}
