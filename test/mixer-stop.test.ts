import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { uuidv7 } from "uuidv7";
import { afterEach, expect, it } from "vitest";
import { assertPortFree } from "../mixer-worker/cli/dev/port-check.ts";
import { createTelemetry, type Telemetry } from "../rack-agent/src/telemetry/index.ts";
import { TELEMETRY_CONSUMER, TELEMETRY_STREAM } from "../shared/fluxmsg/subjects.ts";
import { freePort } from "./helpers/free-port.ts";
import { type RunningBin, startBin } from "./helpers/run-bin.ts";
import { countStoredLogs } from "./helpers/stored-files.ts";
import { eventually, startTestMixer, storeBusAuth, type TestMixer } from "./helpers/test-mixer.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** A store dir and fixed free ports: what `fluxrig-mixer dev` and a later restart share. */
async function devSetup(extra: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), "fluxrig-stop-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const snakePort = await freePort();
  const env = {
    FLUXRIG_STORE_DIR: join(dir, "data"),
    FLUXRIG_API_PORT: String(await freePort()),
    FLUXRIG_SNAKE_PORT: String(snakePort),
    FLUXRIG_SNAKE_WEBSOCKET_URL: `ws://127.0.0.1:${await freePort()}`,
    FLUXRIG_API_TOKEN: "test-token-0123456789",
    // Counts below are of the racks' records only: the mixer's own telemetry (its bus errors) stays out.
    FLUXRIG_OBSERVABILITY_ENABLED: "false",
    ...extra,
  };
  return { dir, env, natsUrl: `nats://127.0.0.1:${snakePort}` };
}

function startDev(env: Record<string, string>, cwd: string): RunningBin {
  const dev = startBin("fluxrig-mixer", ["dev"], { env, cwd });
  cleanups.push(() => dev.stop("SIGKILL"));
  return dev;
}

async function rackTelemetry(nc: NatsConnection, stateDir: string): Promise<Telemetry> {
  return createTelemetry({
    nc,
    domain: "flux",
    entity: { id: uuidv7(), name: "rack-stop" },
    maxPayloadSize: 64 * 1024,
    samplingRate: 1,
    enabled: true,
    stateDir,
    retryIntervalMs: 250,
    warn: console.warn,
    selfMetricsIntervalMs: 3_600_000,
  });
}

/** Waits until JetStream acknowledged every record: none dropped, none left in the rack's spool. */
async function acknowledgedAll(telemetry: Telemetry): Promise<void> {
  await eventually("the rack's spool to drain", async () => {
    await telemetry.flush();
    return telemetry.stats().spool.batches === 0 ? true : undefined;
  });
  expect(telemetry.stats().recordsDropped).toBe(0);
}

it("Ctrl-C drains the bridge first: 100,000 acknowledged records pending at the stop are all stored", async () => {
  // A long flush interval keeps records waiting in the bus and the bridge when Ctrl-C comes.
  const { dir, env, natsUrl } = await devSetup({ FLUXRIG_INGEST_FLUSH_INTERVAL: "8s" });
  const dev = startDev(env, dir);
  // A first start compiles the Worker and loads DuckDB: once past 90 s in CI on a busy 2-core machine.
  await dev.waitFor(/fluxrig mixer is running/, { timeoutMs: 180_000 });
  expect(dev.output).toContain("snake.durable = false keeps the streams in memory");

  const nc = await connect({ servers: natsUrl, ...(await storeBusAuth(env.FLUXRIG_STORE_DIR)) });
  const telemetry = await rackTelemetry(nc, join(dir, "rack"));
  for (let i = 0; i < 100_000; i++) await telemetry.log("info", `payment ${i}`, { i });
  await acknowledgedAll(telemetry);
  const info = await (await jetstreamManager(nc)).consumers.info(TELEMETRY_STREAM, TELEMETRY_CONSUMER);
  const waiting = info.num_pending + info.num_ack_pending;
  await telemetry.close();
  await nc.close();
  expect(waiting).toBeGreaterThan(0);

  expect(await dev.stop("SIGINT")).toBe(0);
  expect(dev.output).toContain("telemetry and journal intake closed");
  expect(dev.output).toContain("every acknowledged telemetry and journal message is in R2");
  expect(dev.output).not.toContain("WARNING");

  const mixer = await startTestMixer({ env });
  cleanups.push(() => mixer.stop());
  const stored = await eventually("the records to be listed", async () => {
    const seen = await countStoredLogs(mixer, join(dir, "scratch"));
    return seen.ids >= 100_000 ? seen : undefined;
  });
  expect(stored.ids).toBe(100_000);
}, 330_000);

it("a nats-server killed under load is restarted, and with durable streams every acknowledged record is stored", async () => {
  const { dir, env } = await devSetup({ FLUXRIG_SNAKE_DURABLE: "true", FLUXRIG_INGEST_FLUSH_INTERVAL: "1s" });
  const mixer: TestMixer = await startTestMixer({ env });
  cleanups.push(() => mixer.stop());
  const firstPid = mixer.natsServerPid();

  const nc = await mixer.connectBus({ maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  cleanups.push(() => nc.close());
  const telemetry = await rackTelemetry(nc, join(dir, "rack"));
  // About 500 records/s for 6 s, with nats-server killed at 2 s.
  const total = 3_000;
  for (let i = 0; i < total; i++) {
    await telemetry.log("info", `reading ${i}`, { i });
    if (i === 1_000) process.kill(firstPid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 2));
  }
  await eventually("a new nats-server", async () => (mixer.natsServerPid() !== firstPid ? true : undefined));
  await acknowledgedAll(telemetry);
  await telemetry.close();

  const stored = await eventually(
    "every record to be stored",
    async () => {
      const seen = await countStoredLogs(mixer, join(dir, "scratch"));
      return seen.ids >= total ? seen : undefined;
    },
    60_000,
  );
  expect(stored.ids).toBe(total);
  const health = (await (await fetch(`${mixer.apiUrl}/health`)).json()) as { nats: { connected: boolean } };
  expect(health.nats.connected).toBe(true);
}, 180_000);

it("a launcher killed with SIGKILL leaves no nats-server, wrangler or workerd behind", async () => {
  const { dir, env } = await devSetup();
  const dev = startDev(env, dir);
  await dev.waitFor(/fluxrig mixer is running/, { timeoutMs: 180_000 });
  await dev.stop("SIGKILL");
  // Every port it held is free again, so the next `npm run dev` starts.
  await eventually("the ports to be released", async () => {
    await assertPortFree(Number(env.FLUXRIG_API_PORT), "api.port");
    await assertPortFree(Number(env.FLUXRIG_SNAKE_PORT), "snake.port");
    await assertPortFree(Number(new URL(env.FLUXRIG_SNAKE_WEBSOCKET_URL).port), "snake.websocket_url");
    return true;
  });
}, 270_000);
