import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { freePort } from "./helpers/free-port.ts";
import { nativeQuery, sqlString } from "./helpers/native-duckdb.ts";
import { type RunningBin, runBin, startBin } from "./helpers/run-bin.ts";
import { downloadStored, listStored } from "./helpers/stored-files.ts";
import { busEnv, eventually, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

/** What GET /api/v1/racks shows of a rack, as far as these tests look. */
interface Rack {
  id: string;
  name: string;
  status: string;
  stale: boolean;
  last_seen: string;
  last_heartbeat: { boot: number; gears: string; counters: Record<string, number> } | null;
}

// Above the 30 s waits of eventually() and waitFor(), so a failure says what it waited for.
describe("racks: enrollment, adoption, heartbeats and administration against a real mixer", {
  timeout: 60_000,
}, () => {
  let mixer: TestMixer;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-racks-"));
    mixer = await startTestMixer({
      env: { FLUXRIG_ENROLLMENT_PUSH_DELAY: "200ms", FLUXRIG_INGEST_FLUSH_INTERVAL: "1s" },
    });
  }, 180_000);

  afterAll(async () => {
    await mixer?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  /** The environment of a rack named `name` keeping its state in `<dir>/<state>`. */
  const rackEnv = (name: string, state = name, extra: Record<string, string> = {}) => ({
    FLUXRIG_BASE_NAME: name,
    FLUXRIG_BASE_STATE_DIR: join(dir, state),
    FLUXRIG_SNAKE_URL: mixer.natsUrl,
    FLUXRIG_SNAKE_RECONNECT_WAIT: "200ms",
    FLUXRIG_RACK_BOOTSTRAP_TOKEN: mixer.bootstrapToken,
    FLUXRIG_RACK_HEARTBEAT_INTERVAL: "500ms",
    ...busEnv(mixer),
    ...extra,
  });

  /** `fluxrig run`, stopped (Ctrl-C) when the test ends if it still runs. */
  const runRack = (env: Record<string, string>): RunningBin => {
    const rack = startBin("fluxrig", ["run"], { env });
    onTestFinished(async () => {
      await rack.stop();
    });
    return rack;
  };

  /** `fluxrig racks …` against this mixer. */
  const racksCli = (args: string[], env: Record<string, string> = {}) =>
    runBin("fluxrig", ["racks", ...args, "--api-url", mixer.apiUrl], {
      env: { FLUXRIG_API_TOKEN: mixer.env.FLUXRIG_API_TOKEN as string, ...env },
    });

  const rackNamed = async (name: string): Promise<Rack | undefined> => {
    const { racks } = (await (await mixer.api("/api/v1/racks")).json()) as { racks: Rack[] };
    return racks.find((r) => r.name === name);
  };

  it("a new rack waits pending with its gears stopped, runs them once approved, stops them when suspended", async () => {
    const rack = runRack(rackEnv("rack-nyc-01"));
    // No rack.cluster_key_fingerprint: the key met first is trusted, and the operator told how to pin it.
    await rack.waitFor(
      new RegExp(
        `trusting cluster key ${mixer.clusterKeyFingerprint} on first use .*` +
          `FLUXRIG_RACK_CLUSTER_KEY_FINGERPRINT=${mixer.clusterKeyFingerprint}`,
      ),
    );
    await rack.waitFor(/waiting for adoption: an operator runs `fluxrig racks approve rack-nyc-01`/);

    const list = await racksCli(["list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+NAME\s+STATUS\s+IP\s+VERSION\s+LAST SEEN$/m);
    expect(list.stdout).toMatch(/rack-nyc-01\s+pending\s+\S+\s+0\.1\.0/);
    const pending = await eventually("a heartbeat from the pending rack", async () => {
      const seen = await rackNamed("rack-nyc-01");
      return seen?.last_heartbeat ? seen : undefined;
    });
    expect(pending.last_heartbeat?.gears).toBe("stopped");

    const since = rack.output.length;
    const approve = await racksCli(["approve", "rack-nyc-01"]);
    expect(approve.stdout).toBe(`rack rack-nyc-01 (${pending.id}) is now active (was pending)\n`);
    await rack.waitFor(/passport: rack \S+ is active/, { since });
    await rack.waitFor(/gears started/, { since });
    await eventually("the mixer to hear the gears run", async () =>
      (await rackNamed("rack-nyc-01"))?.last_heartbeat?.gears === "running" ? true : undefined,
    );

    const suspendedAt = rack.output.length;
    const suspend = await racksCli(["suspend", pending.id]);
    expect(suspend.stdout).toContain("is now suspended (was active)");
    await rack.waitFor(/gears stopped: the rack is suspended/, { since: suspendedAt });
    await eventually("the mixer to hear the gears stopped", async () =>
      (await rackNamed("rack-nyc-01"))?.last_heartbeat?.gears === "stopped" ? true : undefined,
    );
    const approvedAt = rack.output.length;
    await racksCli(["approve", pending.id]);
    await rack.waitFor(/gears started/, { since: approvedAt });
    // The re-activation also swaps bus credentials; stopping before that line lands put it after "gears
    // stopped" (CI of 15:42), so the stop waits for it.
    await rack.waitFor(/bus credentials changed with the passport: reconnecting/, { since: approvedAt });
    expect(await rack.stop()).toBe(0);
    expect(rack.output).toMatch(/gears stopped: the agent is stopping\n.*stopped\n$/);
  });

  it("heartbeats move last_seen and are counted as the metric fluxrig.rack.heartbeats_sent", async () => {
    const rack = runRack(rackEnv("rack-beat"));
    await rack.waitFor(/connected to nats:/);
    const first = await eventually("a first heartbeat", async () => {
      const seen = await rackNamed("rack-beat");
      return seen?.last_heartbeat ? seen : undefined;
    });
    const later = await eventually("last_seen to move", async () => {
      const seen = await rackNamed("rack-beat");
      return seen && Date.parse(seen.last_seen) > Date.parse(first.last_seen) ? seen : undefined;
    });
    expect(later.last_heartbeat?.counters.heartbeats_sent).toBeGreaterThan(
      first.last_heartbeat?.counters.heartbeats_sent ?? 0,
    );
    // Telemetry flows once it is active: a pending rack's bus credentials allow heartbeats only.
    await racksCli(["approve", "rack-beat"]);
    const counted = await eventually("heartbeats_sent in the stored metrics", async () => {
      const keys = (await listStored(mixer, "telemetry/metrics/")).map((f) => f.key);
      if (keys.length === 0) return undefined;
      const paths = await downloadStored(mixer, keys, join(dir, "metrics", String(Date.now())));
      const [row] = await nativeQuery(
        `SELECT sum(value) AS sent FROM read_parquet([${paths.map(sqlString).join(", ")}])
         WHERE name = 'fluxrig.rack.heartbeats_sent' AND entity_name = 'rack-beat' AND type = 'counter'`,
      );
      return typeof row?.sent === "number" && row.sent >= 2 ? row.sent : undefined;
    });
    expect(counted).toBeGreaterThanOrEqual(2);
  });

  it("a restarted rack reuses its passport and identity without enrolling again", async () => {
    const first = runRack(rackEnv("rack-restart"));
    await first.waitFor(/enrolled as rack/);
    const beating = await eventually("a first heartbeat", async () => {
      const seen = await rackNamed("rack-restart");
      return seen?.last_heartbeat ? seen : undefined;
    });
    const id = beating.id;
    expect(await first.stop()).toBe(0);

    const again = runRack(rackEnv("rack-restart"));
    await again.waitFor(new RegExp(`using the cached passport of rack ${id}; no enrollment needed`));
    await again.waitFor(/connected to nats:/);
    // A new boot: the mixer takes its heartbeats as a new sequence, whatever the rack's clock says.
    await eventually("a heartbeat of the new boot", async () =>
      ((await rackNamed("rack-restart"))?.last_heartbeat?.boot ?? 0) > (beating.last_heartbeat?.boot ?? 0)
        ? true
        : undefined,
    );
    expect(again.output).not.toContain("enrolling");
    const { racks } = (await (await mixer.api("/api/v1/racks")).json()) as { racks: Rack[] };
    expect(racks.filter((r) => r.name === "rack-restart").map((r) => r.id)).toEqual([id]);
  });

  it("with a valid passport and no mixer reachable, a rack starts on its cached state", async () => {
    const env = rackEnv("rack-offline");
    const online = runRack(env);
    await online.waitFor(/waiting for adoption/);
    await racksCli(["approve", "rack-offline"]);
    await online.waitFor(/gears started/);
    expect(await online.stop()).toBe(0);

    const offline = runRack({
      ...env,
      FLUXRIG_SNAKE_URL: "nats://127.0.0.1:1",
      FLUXRIG_SNAKE_CONNECT_TIMEOUT: "1s",
    });
    await offline.waitFor(
      /cannot connect to Snake at nats:\/\/127\.0\.0\.1:1.*starting on the cached passport/,
    );
    await offline.waitFor(/passport: rack \S+ is active/);
    await offline.waitFor(/gears started/);
    expect(await offline.stop()).toBe(0);
  });

  it("a rack enrolling again with the same key keeps its id; another key cannot take its name", async () => {
    const env = rackEnv("rack-claimed");
    const first = runRack(env);
    await first.waitFor(/enrolled as rack/);
    const id = (await rackNamed("rack-claimed"))?.id as string;
    expect(await first.stop()).toBe(0);

    // The passport file lost (the key kept): it enrolls again and gets the same id.
    await rm(join(dir, "rack-claimed", "rack.flux"));
    const again = runRack(env);
    await again.waitFor(new RegExp(`enrolled as rack ${id}`));
    expect(await again.stop()).toBe(0);

    // Another machine (another key) claiming the same name is refused, and the registry is unchanged.
    const thief = await runBin("fluxrig", ["run"], { env: rackEnv("rack-claimed", "rack-claimed-thief") });
    expect(thief.code).toBe(1);
    expect(thief.stderr).toContain(
      `fluxrig: the mixer refused the enrollment: name "rack-claimed" is already enrolled by rack ${id} with another identity key`,
    );
    expect((await rackNamed("rack-claimed"))?.id).toBe(id);
  });

  it("a secret set on the mixer reaches the rack sealed: opened in memory, never in plain text on disk", async () => {
    const rack = runRack(rackEnv("rack-secrets"));
    await rack.waitFor(/waiting for adoption/);
    const id = (await rackNamed("rack-secrets"))?.id as string;
    const since = rack.output.length;
    const put = await mixer.api(`/api/v1/racks/${id}/secrets/db_password`, {
      method: "PUT",
      body: JSON.stringify({ value: "s3cret-value-42" }),
      headers: { "content-type": "application/json" },
    });
    expect(put.status).toBe(200);
    // The rack's bootstrap token admits it and goes nowhere else: not to the registry, the passport or gears.
    await rack.waitFor(/passport: rack \S+ is pending .*secrets: db_password\)/, { since });
    expect(await put.json()).toMatchObject({ secrets: ["db_password"] });
    const file = await readFile(join(dir, "rack-secrets", "rack.flux"), "latin1");
    expect(file).toContain("rack-secrets");
    expect(file).not.toContain("s3cret-value-42");
    expect(file).not.toContain(mixer.bootstrapToken);
    expect(rack.output).not.toContain("s3cret-value-42");
  });

  it("a stale rack is marked once three of its heartbeat intervals pass in silence", async () => {
    const rack = runRack(rackEnv("rack-stale"));
    await rack.waitFor(/connected to nats:/);
    await eventually("a heartbeat", async () =>
      (await rackNamed("rack-stale"))?.last_heartbeat ? true : undefined,
    );
    expect((await rackNamed("rack-stale"))?.stale).toBe(false);
    expect(await rack.stop()).toBe(0);
    await eventually("the rack marked stale", async () =>
      (await rackNamed("rack-stale"))?.stale ? true : undefined,
    );
    const list = await racksCli(["list", "--status", "pending"]);
    expect(list.stdout).toMatch(/rack-stale\s+pending.*\(stale\)/);
  });

  it("a rack refuses a tampered passport file and a mixer whose key is not the pinned one", async () => {
    const env = rackEnv("rack-tamper", "rack-tamper", {
      FLUXRIG_RACK_CLUSTER_KEY_FINGERPRINT: mixer.clusterKeyFingerprint,
    });
    const first = runRack(env);
    await first.waitFor(/enrolled as rack/);
    expect(first.output).not.toContain("on first use");
    const id = (await rackNamed("rack-tamper"))?.id as string;
    expect(await first.stop()).toBe(0);

    const path = join(dir, "rack-tamper", "rack.flux");
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 10));
    const again = runRack(env);
    await again.waitFor(new RegExp(`refusing the stored passport: ${path}: .*truncated or corrupted`));
    await again.waitFor(new RegExp(`enrolled as rack ${id}`));
    expect(await again.stop()).toBe(0);

    const wrongPin = `SHA256:${"0".repeat(64)}`;
    const pinned = await runBin("fluxrig", ["run"], {
      env: rackEnv("rack-pinned", "rack-pinned", { FLUXRIG_RACK_CLUSTER_KEY_FINGERPRINT: wrongPin }),
    });
    expect(pinned.code).toBe(1);
    expect(pinned.stderr).toContain(
      `the cluster key the mixer presented is ${mixer.clusterKeyFingerprint}, but rack.cluster_key_fingerprint pins ${wrongPin}`,
    );
  });

  it("a rack with a wrong or missing bootstrap token is told so, and exits non-zero", async () => {
    const wrong = await runBin("fluxrig", ["run"], {
      env: rackEnv("rack-token", "rack-token", { FLUXRIG_RACK_BOOTSTRAP_TOKEN: "not-the-token" }),
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      "fluxrig: the mixer refused the enrollment: bootstrap token refused: rack.bootstrap_token does not match",
    );
    const { FLUXRIG_RACK_BOOTSTRAP_TOKEN: _, ...noToken } = rackEnv("rack-token");
    const missing = await runBin("fluxrig", ["run"], { env: noToken });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("rack.bootstrap_token is not set: set FLUXRIG_RACK_BOOTSTRAP_TOKEN");
  });

  it("fluxrig racks: revoked is final (409), and every failure is one readable line with a non-zero exit", async () => {
    const rack = runRack(rackEnv("rack-revoke"));
    await rack.waitFor(/waiting for adoption/);
    const since = rack.output.length;
    expect((await racksCli(["revoke", "rack-revoke"])).stdout).toContain("is now revoked (was pending)");
    await rack.waitFor(/passport: rack \S+ is revoked/, { since });

    const approve = await racksCli(["approve", "rack-revoke"]);
    expect(approve.code).toBe(1);
    expect(approve.stderr).toMatch(
      /^fluxrig: POST \/api\/v1\/racks\/\S+\/approve: 409 Conflict: rack rack-revoke \(\S+\) is revoked: it cannot be moved to active\n$/,
    );
    const show = await racksCli(["show", "rack-revoke"]);
    expect(show.stdout).toMatch(/^status\s+revoked$/m);

    const unknown = await racksCli(["show", "no-such-rack"]);
    expect(unknown).toMatchObject({
      code: 1,
      stderr: `fluxrig: no rack named no-such-rack at ${mixer.apiUrl} (fluxrig racks list shows them)\n`,
    });
    const badToken = await racksCli(["list"], { FLUXRIG_API_TOKEN: "wrong" });
    expect(badToken).toMatchObject({
      code: 1,
      stderr: "fluxrig: GET /api/v1/racks: 401 Unauthorized: the bearer token is not valid\n",
    });
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const down = await runBin("fluxrig", ["racks", "list", "--api-url", nobody, "--token", "x"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(
      `fluxrig: cannot reach the mixer at ${nobody} (--api-url): connect ECONNREFUSED ${nobody.slice(7)}\n`,
    );

    // With no token given, the CLI reads the one the local mixer keeps under store.dir.
    const storeDir = join(dir, "cli-store");
    await rm(storeDir, { recursive: true, force: true });
    await mkdir(storeDir);
    await writeFile(join(storeDir, "api-token"), `${mixer.env.FLUXRIG_API_TOKEN}\n`);
    const fromFile = await runBin("fluxrig", ["racks", "show", "rack-revoke", "--api-url", mixer.apiUrl], {
      env: { FLUXRIG_STORE_DIR: storeDir },
    });
    expect(fromFile.code).toBe(0);
  }, 120_000); // a dozen CLI runs, each a Node start: 60 s was too little on a loaded machine
});
