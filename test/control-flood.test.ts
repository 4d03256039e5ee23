import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  controlFlood,
  controlIdle,
  controlTotals,
  natsMonitoringUrl,
  pollHealth,
  publishFlood,
  slowConsumers,
} from "./helpers/control-flood.ts";
import { type RunningBin, startBin } from "./helpers/run-bin.ts";
import { busEnv, eventually, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

describe("the control plane under a flood of heartbeats and enrollments", { timeout: 240_000 }, () => {
  let mixer: TestMixer;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-flood-"));
    mixer = await startTestMixer();
  }, 180_000);

  afterAll(async () => {
    await mixer?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  /** `fluxrig run` as an honest rack named `name`, stopped when the test ends. */
  const runRack = (name: string): RunningBin => {
    const rack = startBin("fluxrig", ["run"], {
      env: {
        FLUXRIG_BASE_NAME: name,
        FLUXRIG_BASE_STATE_DIR: join(dir, name),
        FLUXRIG_SNAKE_URL: mixer.natsUrl,
        FLUXRIG_SNAKE_RECONNECT_WAIT: "200ms",
        FLUXRIG_RACK_BOOTSTRAP_TOKEN: mixer.bootstrapToken,
        FLUXRIG_RACK_HEARTBEAT_INTERVAL: "1s",
        ...busEnv(mixer),
      },
    });
    onTestFinished(async () => {
      await rack.stop();
    });
    return rack;
  };

  it("sheds and counts it, stays on the bus answering every /health, and honest racks still enroll and heartbeat", async () => {
    const monitoring = await natsMonitoringUrl(mixer.storeDir);
    const nc = await mixer.connectBus({ name: "control-flood-test" });
    onTestFinished(() => nc.close());
    const messages = controlFlood(60_000);
    const enrollments = messages.filter((m) => m.request).length;

    // Starts enrolling while the flood is on: it is told "busy" and retries until it is in.
    const duringFlood = runRack("rack-during-flood");
    const health = pollHealth(mixer.apiUrl);
    const { replies } = await publishFlood(nc, messages);
    const idle = await controlIdle(health.polls);
    const polls = await health.stop();
    if (!idle) throw new Error("the bridge did not work off what it took in within 120 s");

    // On the bus all along, never cut off by nats-server as a slow consumer.
    const offBus = polls.filter((p) => p.body?.nats.connected !== true);
    expect(offBus.map((p) => ({ ms: Math.round(p.ms), error: p.error, nats: p.body?.nats }))).toEqual([]);
    expect(await slowConsumers(monitoring)).toBe(0);
    // Every /health was answered (offBus above holds the failures). How fast is bench:control-flood's to say,
    // against the idle mixer in the same run: a timed bound here failed on a loaded machine, not on the mixer.

    // The counters add up in every answer, and once the bridge is idle again nothing is in flight.
    for (const poll of polls) {
      const totals = controlTotals(poll.body?.control);
      expect(totals.received).toBe(totals.processed + totals.shedTotal + totals.busy);
    }
    expect(idle.received).toBe(idle.processed + idle.shedTotal);
    expect(idle.shedTotal).toBeGreaterThan(0);
    expect(idle.shed.rate_limited).toBeGreaterThan(0);
    expect(idle.shed.oversize).toBeGreaterThan(0);
    // What the bridge did not take, nats-server dropped (no subscription while the bridge's queue was over half).
    expect(idle.received).toBeLessThan(messages.length);

    // No enrollment request is left without an answer: the mixer's, its "busy", or nats-server's no-responders.
    await eventually("an answer to every enrollment request", async () =>
      replies.busy + replies.answered === enrollments ? true : undefined,
    );

    await duringFlood.waitFor(/enrolled as rack/, { timeoutMs: 30_000 });
    const afterFlood = runRack("rack-after-flood");
    await afterFlood.waitFor(/enrolled as rack/, { timeoutMs: 30_000 });
    await eventually("heartbeats from both racks", async () => {
      const { racks } = (await (await mixer.api("/api/v1/racks")).json()) as {
        racks: { name: string; last_heartbeat: unknown }[];
      };
      const beating = racks.filter((r) => r.last_heartbeat !== null).map((r) => r.name);
      return beating.includes("rack-during-flood") && beating.includes("rack-after-flood") ? true : undefined;
    });
  });
});
