import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uuidv7 } from "uuidv7";
import { afterAll, expect, it } from "vitest";
import { createTelemetry } from "../rack-agent/src/telemetry/index.ts";
import { countStoredLogs } from "./helpers/stored-files.ts";
import { eventually, MIXER_START_MS, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

let dir: string | undefined;
let mixer: TestMixer | undefined;
afterAll(async () => {
  await mixer?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it(
  "loses nothing when the mixer dies between the R2 write and the ack",
  async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-crash-"));
    // Durable JetStream, so the un-acked messages outlive the crash; the fault hangs the bridge after its write.
    const env = { FLUXRIG_INGEST_FLUSH_INTERVAL: "1s", FLUXRIG_SNAKE_DURABLE: "true" };
    mixer = await startTestMixer({ env, extraVars: { MIXER_FAULT_HANG_BEFORE_ACK: "1" } });

    const nc = await mixer.connectBus();
    const telemetry = await createTelemetry({
      nc,
      domain: "flux",
      entity: { id: uuidv7(), name: "rack-crash" },
      maxPayloadSize: 16 * 1024,
      samplingRate: 1,
      enabled: true,
      stateDir: join(dir, "rack-state"),
      warn: console.warn,
      selfMetricsIntervalMs: 3_600_000,
    });
    for (let i = 0; i < 200; i++) await telemetry.log("info", `txn ${i}`, { i });
    await telemetry.close();
    await nc.close();

    const first = mixer;
    const written = await eventually("the first write to reach R2", async () => {
      const seen = await countStoredLogs(first, dir as string);
      return seen.ids === 200 ? seen : undefined;
    });
    expect(written).toEqual({ n: 200, ids: 200 });

    await mixer.crash();
    mixer = await startTestMixer({ again: mixer });

    // Un-acked, the messages come back after ack_wait and are written again: duplicates, never loss.
    const after = await eventually(
      "the redelivered records to be written again",
      async () => {
        const seen = await countStoredLogs(mixer as TestMixer, dir as string);
        return seen.n >= 400 ? seen : undefined;
      },
      60_000,
    );
    expect(after).toEqual({ n: 400, ids: 200 });
    const health = (await (await fetch(`${mixer.apiUrl}/health`)).json()) as {
      ingest: { pending_messages: number };
    };
    expect(health.ingest.pending_messages).toBe(0);
  },
  2 * MIXER_START_MS,
);
