import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { TELEMETRY_PREFIX } from "../shared/fluxmsg/subjects.ts";
import { type RunningBin, startBin } from "./helpers/run-bin.ts";
import { eventually, fluxrigCli, rackEnv, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

/** The lifetime of a rack's user JWT here: renewed by heartbeats after 10 s, expired 20 s after the last. */
const JWT_TTL_MS = 20_000;
const RACK = "rack-jwt-01";

/**
 * The whole mixer with its bus in operator mode (`snake.auth = "jwt"`): a real `fluxrig run` enrolls on the
 * enrollment token, is approved, and then lives with its own short-lived JWT through a control-plane outage
 * and a revocation. The bus-level rules (what each user may publish and read) are in
 * shared/nats-auth/nats-auth.test.ts; this is the renewal and revocation as an operator sees them.
 */
describe("per-rack bus credentials through the whole mixer (snake.auth = jwt)", { timeout: 240_000 }, () => {
  let mixer: TestMixer;
  let dir: string;
  let admin: NatsConnection;
  /** When each message on the rack's telemetry subjects was seen on the bus. */
  const seen: number[] = [];
  let rack: RunningBin;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-bus-credentials-"));
    mixer = await startTestMixer({
      env: {
        FLUXRIG_SNAKE_AUTH: "jwt",
        FLUXRIG_SNAKE_USER_JWT_TTL: `${JWT_TTL_MS / 1_000}s`,
        FLUXRIG_ENROLLMENT_PUSH_DELAY: "200ms",
        FLUXRIG_INGEST_FLUSH_INTERVAL: "1s",
      },
    });
    admin = await mixer.connectBus();
    const sub = admin.subscribe(`${TELEMETRY_PREFIX}.*.${RACK}`);
    void (async () => {
      for await (const _ of sub) seen.push(Date.now());
    })();
  }, 180_000);

  afterAll(async () => {
    mixer?.freezeWorker(false);
    await rack?.stop();
    await admin?.close();
    await mixer?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const seenSince = (at: number) => seen.filter((t) => t >= at).length;
  /** The rack's connections to nats-server, by the name the agent gives them. */
  const rackConnections = async () => {
    const connz = (await (await fetch(`${mixer.natsMonitoringUrl()}/connz?limit=1024`)).json()) as {
      connections?: { name?: string }[];
    };
    return (connz.connections ?? []).filter((c) => c.name === `fluxrig-rack-${RACK}`).length;
  };

  it("refuses a client without credentials", async () => {
    await expect(connect({ servers: mixer.natsUrl, reconnect: false, timeout: 5_000 })).rejects.toThrow(
      /Authorization/i,
    );
  });

  it("an approved rack keeps publishing with the mixer down until its JWT expires, spools, and renews when it is back", async () => {
    rack = startBin("fluxrig", ["run"], {
      env: {
        ...rackEnv(mixer, dir, RACK),
        FLUXRIG_SNAKE_RECONNECT_WAIT: "200ms",
        FLUXRIG_RACK_HEARTBEAT_INTERVAL: "500ms",
      },
    });
    await rack.waitFor(/waiting for adoption/, { timeoutMs: 60_000 });
    const approvedAt = rack.output.length;
    expect((await fluxrigCli(mixer, ["racks", "approve", RACK])).code).toBe(0);
    await rack.waitFor(/bus credentials changed with the passport: reconnecting/, { since: approvedAt });
    await eventually("the active rack's telemetry on the bus", async () => seen.length > 0 || undefined);

    // The control plane goes away; the bus stays.
    mixer.freezeWorker(true);
    onTestFinished(() => mixer.freezeWorker(false));
    const frozenAt = Date.now();
    const frozenOutput = rack.output.length;
    await eventually("telemetry on the bus with the mixer down", async () =>
      seenSince(frozenAt + 1_000) > 0 ? true : undefined,
    );
    // No renewal can come: within a TTL the server closes the connection, the rack is back on its standby
    // JWT (no data planes), and its telemetry goes to the spool.
    await rack.waitFor(/spooling to/, { since: frozenOutput, timeoutMs: JWT_TTL_MS + 30_000 });
    expect(Date.now() - frozenAt).toBeLessThan(JWT_TTL_MS + 30_000);
    const spoolingAt = Date.now();
    await new Promise((r) => setTimeout(r, 3_000));
    expect(seenSince(spoolingAt + 1_000)).toBe(0);
    const spool = join(dir, RACK, "spool", "telemetry");
    expect((await readdir(spool)).filter((f) => f.endsWith(".cbor")).length).toBeGreaterThan(0);

    // The mixer is back: the next heartbeat gets a renewed passport, the rack reconnects with it, and what
    // it spooled goes out.
    const thawedOutput = rack.output.length;
    mixer.freezeWorker(false);
    const thawedAt = Date.now();
    await rack.waitFor(/bus credentials changed with the passport: reconnecting/, {
      since: thawedOutput,
      timeoutMs: 60_000,
    });
    await eventually(
      "the spool drained",
      async () => ((await readdir(spool)).some((f) => f.endsWith(".cbor")) ? undefined : true),
      60_000,
    );
    expect(seenSince(thawedAt)).toBeGreaterThan(0);
  });

  it("a revoked rack is disconnected within 5 s and cannot connect again", async () => {
    // The previous test ends as the rack swaps connections for its renewed passport (CI of 14:12 saw 0 here).
    await eventually("the rack connected once", async () =>
      (await rackConnections()) === 1 ? true : undefined,
    );
    const revoked = await fluxrigCli(mixer, ["racks", "revoke", RACK]);
    expect(revoked.stdout).toContain("is now revoked");
    const revokedAt = Date.now();
    await eventually(
      "the rack's connection closed",
      async () => ((await rackConnections()) === 0 ? true : undefined),
      5_000,
    );
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
    // It keeps trying (reconnect_wait 200 ms) and is refused every time.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await rackConnections()).toBe(0);
  });
});
