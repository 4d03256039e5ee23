import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { createTelemetry } from "../rack-agent/src/telemetry/index.ts";
import { uuidv7 } from "../shared/random/uuidv7.ts";
import { countStoredLogs } from "./helpers/stored-files.ts";
import { eventually, MIXER_START_MS, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

let dir: string | undefined;
let mixer: TestMixer | undefined;
afterAll(async () => {
  await mixer?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface BridgeHealth {
  index: number;
  connected: boolean;
  records_stored: number;
  pending_records: number;
}

async function bridges(of: TestMixer): Promise<{ stored: number; bridges: BridgeHealth[] }> {
  const health = (await (await fetch(`${of.apiUrl}/health`)).json()) as {
    ingest: { records_stored: number; bridges: BridgeHealth[] };
  };
  return { stored: health.ingest.records_stored, bridges: health.ingest.bridges };
}

it(
  "shares ingest between 4 bridges (ingest.bridges) and loses or doubles no record",
  async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-bridges-"));
    mixer = await startTestMixer({
      env: {
        FLUXRIG_INGEST_BRIDGES: "4",
        FLUXRIG_INGEST_FLUSH_INTERVAL: "1s",
        FLUXRIG_INGEST_BUFFER_SIZE: "64",
      },
    });
    const started = mixer;
    // Bridge 0 starts the others; all four hold the bus before the racks publish.
    await eventually("4 ingest bridges on the bus", async () => {
      const { bridges: all } = await bridges(started);
      return all.length === 4 && all.every((b) => b.connected) ? all : undefined;
    });

    // Four racks at once, in small batches, so every bridge has messages to take.
    const RACKS = 4;
    const PER_RACK = 5_000;
    await Promise.all(
      Array.from({ length: RACKS }, async (_, r) => {
        const nc = await started.connectBus();
        const telemetry = await createTelemetry({
          nc,
          domain: "flux",
          entity: { id: uuidv7(), name: `rack-${r}` },
          maxPayloadSize: 8 * 1024,
          samplingRate: 1,
          enabled: true,
          stateDir: join(dir as string, `rack-${r}`),
          warn: console.warn,
          selfMetricsIntervalMs: 3_600_000,
        });
        for (let i = 0; i < PER_RACK; i++) await telemetry.log("info", `rack ${r} txn ${i}`, { r, i });
        await telemetry.close();
        await nc.close();
      }),
    );

    const TOTAL = RACKS * PER_RACK;
    const health = await eventually("every record stored", async () => {
      const seen = await bridges(started);
      return seen.stored >= TOTAL && seen.bridges.every((b) => b.pending_records === 0) ? seen : undefined;
    });
    expect(health.stored).toBe(TOTAL);
    // Each bridge wrote a share, and the shares add up to the whole.
    for (const bridge of health.bridges)
      expect(bridge.records_stored, `bridge ${bridge.index}`).toBeGreaterThan(0);
    expect(health.bridges.reduce((sum, b) => sum + b.records_stored, 0)).toBe(TOTAL);
    // What is in R2, read back natively: every record once.
    expect(await countStoredLogs(started, dir)).toEqual({ n: TOTAL, ids: TOTAL });
  },
  MIXER_START_MS + 60_000,
);
