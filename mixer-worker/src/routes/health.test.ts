import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { LogsAnswer } from "../../../shared/telemetry/query-results.ts";
import { API_TOKEN, loadEngine } from "../../test-helpers/telemetry-api.ts";
import { withSettings } from "../../test-helpers/test-rack.ts";
import type { BridgeStatus } from "../bridge/bridge-status.ts";
import { snakeBridge } from "../bridge/bridge-stub.ts";
import { BUS_GRACE_MS, healthVerdict } from "../bridge/health-verdict.ts";
import { PartHealth } from "../bridge/part-health.ts";
import type { SnakeBridge } from "../bridge/snake-bridge.ts";
import { mixerConfig } from "../config.ts";
import type { MixerEnv } from "../env.ts";
import worker from "../index.ts";
import { sendSelfTelemetry } from "../self/api-usage.ts";

/** The workers project turns the mixer's own telemetry off (vitest.config.ts); these tests turn it on. */
const SELF_ON = { FLUXRIG_OBSERVABILITY_ENABLED: "true" };
const mixerEnv = withSettings(SELF_ON);
const MIXER_NAME = mixerConfig(mixerEnv).config.base.name;

/** Calls the Worker in this isolate, then hands its API counters and log lines to the bridge at once. */
async function callAndReport(method: string, path: string, body?: unknown, token = API_TOKEN) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://mixer${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
    mixerEnv,
    ctx,
  );
  const text = await res.text();
  sendSelfTelemetry(mixerEnv, (work) => ctx.waitUntil(work), true);
  await waitOnExecutionContext(ctx);
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Runs the bridge's flush of the mixer's own telemetry now, with `bucket` as its R2 binding. */
async function flushSelf(bucket: R2Bucket = mixerEnv.TELEMETRY): Promise<BridgeStatus> {
  const stub = snakeBridge(mixerEnv);
  await stub.status();
  return runInDurableObject(stub, async (bridge: SnakeBridge) => {
    const inside = bridge as unknown as { env: MixerEnv };
    const real = inside.env;
    inside.env = { ...real, ...SELF_ON, TELEMETRY: bucket };
    try {
      await bridge.flushSelfTelemetry();
    } finally {
      inside.env = real;
    }
    return bridge.status();
  });
}

/** An R2 binding whose every write fails, as during an R2 outage. */
const failingBucket = {
  put: async () => {
    throw new Error("R2 is unavailable (simulated outage)");
  },
} as unknown as R2Bucket;

async function health() {
  const res = await worker.fetch(new Request("http://mixer/health"), mixerEnv, createExecutionContext());
  return {
    status: res.status,
    body: (await res.json()) as { status: string; failing: Record<string, unknown>[] },
  };
}

beforeAll(() => loadEngine(), 120_000);

describe("healthVerdict", () => {
  const failingStore = (fails: number, what = "put failed") => {
    const store = new PartHealth();
    store.succeeded(Date.UTC(2026, 0, 1));
    for (let i = 0; i < fails; i++) store.failed(new Error(`${what} ${i}`));
    return store.view();
  };
  const status = (
    connected: boolean,
    downMsAgo: number | null,
    storeFails: number,
    otherBridgeFails = 0,
  ): BridgeStatus => {
    const store = failingStore(storeFails);
    return {
      connected,
      lastError: connected ? null : "cannot reach NATS",
      bridges: [
        { index: 0, store },
        { index: 1, store: failingStore(otherBridgeFails, "bridge 1 put failed") },
      ],
      health: {
        store,
        bus: new PartHealth().view(),
        busDownSince: downMsAgo === null ? null : new Date(Date.now() - downMsAgo).toISOString(),
        api: { requests: 0, client_errors: 0, server_errors: 0 },
      },
    } as unknown as BridgeStatus;
  };

  it("is ok while every part works, and through a short bus outage", () => {
    expect(healthVerdict(status(true, null, 0), Date.now())).toEqual({ status: "ok", failing: [] });
    expect(healthVerdict(status(false, BUS_GRACE_MS - 1_000, 0), Date.now()).status).toBe("ok");
  });

  it("names the bus once it has been away past the grace period, and the store while its last write failed", () => {
    const verdict = healthVerdict(status(false, BUS_GRACE_MS + 1_000, 2), Date.now());
    expect(verdict.status).toBe("degraded");
    expect(verdict.failing).toEqual([
      { part: "store", since: "2026-01-01T00:00:00.000Z", last_error: "put failed 1" },
      { part: "bus", since: expect.any(String), last_error: "cannot reach NATS" },
    ]);
  });

  it("names the store while another ingest bridge's last write failed", () => {
    expect(healthVerdict(status(true, null, 0, 1), Date.now()).failing).toEqual([
      { part: "store", since: "2026-01-01T00:00:00.000Z", last_error: "bridge 1 put failed 0" },
    ]);
  });
});

describe("the mixer's own telemetry and a failing store", () => {
  it("writes the mixer's API metrics and log lines as entity base.name, queryable like a rack's", async () => {
    const made = await callAndReport("POST", "/api/v1/tokens", { name: "self-telemetry", scope: "read" });
    expect(made.status).toBe(201);
    expect((await callAndReport("GET", "/api/v1/racks", undefined, made.body.token as string)).status).toBe(
      200,
    );
    expect((await callAndReport("GET", "/api/v1/tokens", undefined, made.body.token as string)).status).toBe(
      403,
    );
    const after = await flushSelf();
    expect(after.health.store.consecutive_failures).toBe(0);
    expect(after.health.api.client_errors).toBeGreaterThanOrEqual(1);

    const logs = await callAndReport("GET", `/api/v1/telemetry/logs?entity=${MIXER_NAME}&since=1h`);
    const messages = (logs.body as unknown as LogsAnswer).logs.map((l) => l.message);
    expect(messages).toContain("API token self-telemetry (scope read) created");
    for (const message of messages) expect(message).not.toContain(made.body.token as string);
    const metrics = await callAndReport(
      "GET",
      `/api/v1/telemetry/metrics/fluxrig.mixer.api.requests?entity=${MIXER_NAME}&since=1h&group_by=status`,
    );
    expect(metrics.status).toBe(200);
    expect(JSON.stringify(metrics.body)).toContain("4xx");
  });

  it("answers degraded (503) naming the store and its error while R2 writes fail, and ok for the store after", async () => {
    await callAndReport("POST", "/api/v1/tokens", { name: "during-outage", scope: "read" });
    const failing = await flushSelf(failingBucket);
    expect(failing.health.store).toMatchObject({
      consecutive_failures: 1,
      last_error: "R2 is unavailable (simulated outage)",
    });
    const down = await health();
    expect([down.status, down.body.status]).toEqual([503, "degraded"]);
    expect(down.body.failing).toContainEqual(
      expect.objectContaining({ part: "store", last_error: "R2 is unavailable (simulated outage)" }),
    );

    const recovered = await flushSelf();
    expect(recovered.health.store).toMatchObject({ consecutive_failures: 0, failures: 1 });
    const up = await health();
    // The bus may be away in this project (no NATS here); the store is not failing any more.
    expect(up.body.failing.map((part) => part.part)).not.toContain("store");
    if (up.body.failing.length === 0) expect([up.status, up.body.status]).toEqual([200, "ok"]);
    // What the outage held back was written after it.
    const logs = await callAndReport("GET", `/api/v1/telemetry/logs?entity=${MIXER_NAME}&since=1h`);
    expect((logs.body as unknown as LogsAnswer).logs.map((l) => l.message)).toContain(
      "API token during-outage (scope read) created",
    );
  });
});
