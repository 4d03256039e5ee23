import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "./helpers/free-port.ts";
import { startNatsServer } from "./helpers/nats-server.ts";
import { type RunningBin, startBin } from "./helpers/run-bin.ts";
import { fluxrigCli, MIXER_START_MS, rackEnv, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

let mixer: TestMixer;
let dir: string;
const running: RunningBin[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-scenario-"));
  mixer = await startTestMixer({
    env: {
      FLUXRIG_ENROLLMENT_AUTO_ADOPT: "true",
      FLUXRIG_MIXER_SCENARIO_WAIT_TIMEOUT: "20s",
      // The global cap travels with each part, below the racks' own rack.max_hops (64).
      FLUXRIG_MIXER_MAX_HOPS: "8",
    },
  });
}, MIXER_START_MS);

afterAll(async () => {
  for (const bin of running) await bin.stop("SIGKILL");
  await mixer?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => fluxrigCli(mixer, args);

function startRack(name: string, snakeUrl = mixer.natsUrl, env: Record<string, string> = {}): RunningBin {
  const rack = startBin("fluxrig", ["run"], {
    env: {
      ...env,
      ...rackEnv(mixer, dir, name, snakeUrl),
    },
  });
  running.push(rack);
  return rack;
}

/** A generator into a log sink on one rack; `port` adds an http-in listening there. */
function scenarioFile(version: string, rack: string, options: { rate?: number; port?: number } = {}) {
  const httpIn = options.port
    ? `  api: { type: http-in, rack: edge, config: { port: ${options.port} } }\n`
    : "";
  return `meta: { name: flow, version: "${version}" }
racks:
  edge: { name: ${rack} }
gears:
  gen: { type: generator, rack: edge, config: { rate: ${options.rate ?? 5}, type: tick } }
  sink: { type: log-sink, rack: edge, config: {} }
${httpIn}wires:
  - { from: gen.out, to: sink.in }
${options.port ? "  - { from: api.out, to: sink.in }\n" : ""}`;
}

it("import, activate --wait, status: the rack runs its part, reports it, and keeps it for a start without the mixer", async () => {
  const rack = startRack("rack-flow-01");
  await rack.waitFor(/passport: rack \S+ is active/);
  await rack.waitFor(/connected to/);

  const file = join(dir, "flow.yaml");
  await writeFile(file, scenarioFile("1", "rack-flow-01"));
  const imported = await cli(["scenario", "import", file]);
  expect(imported.stderr).toBe("");
  expect(imported.stdout).toMatch(/^imported flow 1 \([0-9a-f]{12}\): 2 gears, 1 wires/);

  const activated = await cli(["scenario", "activate", "flow", "--wait"]);
  expect(activated.code, activated.stderr).toBe(0);
  expect(activated.stdout).toContain("converged on every target rack");
  expect(activated.stdout).toMatch(/rack-flow-01\s+edge\s+converged/);
  await rack.waitFor(/scenario flow 1 \([0-9a-f]{12}\) on edge: 2 started/);

  const status = await cli(["scenario", "status", "flow", "-o", "json"]);
  expect(JSON.parse(status.stdout)).toMatchObject({ converged: true, racks: [{ state: "converged" }] });
  // The rack's heartbeats carry each gear's state, and `racks show` prints them.
  const shown = await cli(["racks", "show", "rack-flow-01"]);
  expect(shown.stdout).toMatch(/scenario\s+flow \([0-9a-f]{12}\) running/);
  expect(shown.stdout).toMatch(/ {2}gen\s+running/);

  // A gear that cannot start (its port is taken): activation reports the rack refused it, and why.
  const taken = await freePort();
  const blocker = (await import("node:net")).createServer();
  await new Promise<void>((resolve) => blocker.listen(taken, "127.0.0.1", resolve));
  try {
    await writeFile(file, scenarioFile("2", "rack-flow-01", { port: taken }));
    expect((await cli(["scenario", "import", file])).code).toBe(0);
    const refused = await cli(["scenario", "activate", "flow", "--wait"]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/rack-flow-01\s+edge\s+refused\s+.*gear api/);
    expect(refused.stderr).toContain("flow did not converge on 1 of 1 target racks");
  } finally {
    blocker.close();
  }
  // Version 1 again: only the sink restarts (its wiring changed); the generator keeps running.
  const back = await cli(["scenario", "activate", "flow:1", "--wait"]);
  expect(back.code, back.stdout + back.stderr).toBe(0);
  await rack.waitFor(/scenario flow 1 \([0-9a-f]{12}\) on edge: 1 started, 1 stopped, 1 unchanged/);
  expect(await rack.stop()).toBe(0);

  // The rack keeps its part: started with the mixer gone (only a bus), it runs the same scenario.
  const partFile = join(dir, "rack-flow-01", "scenario.flux");
  expect((await readFile(partFile)).length).toBeGreaterThan(0);
  const bus = await startNatsServer();
  try {
    const alone = startRack("rack-flow-01", bus.url);
    await alone.waitFor(/running the stored scenario part of flow 1/);
    await alone.waitFor(/scenario flow 1 \([0-9a-f]{12}\) on edge: 2 started/);
    expect(await alone.stop()).toBe(0);

    // A tampered part file is refused with the reason; the rack still runs, without a scenario.
    const bytes = await readFile(partFile);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
    await writeFile(partFile, bytes);
    const refusing = startRack("rack-flow-01", bus.url);
    await refusing.waitFor(/refusing the stored scenario part: .*scenario\.flux: /);
    await refusing.waitFor(/connected to/);
    expect(await refusing.stop()).toBe(0);
  } finally {
    await bus.stop();
  }
}, 240_000);

it("names every problem of a broken file at its line, and an unknown scenario", async () => {
  const file = join(dir, "broken.yaml");
  await writeFile(file, scenarioFile("1", "rack-x").replace("rate: 5", 'rate: "fast"'));
  const res = await cli(["scenario", "import", file]);
  expect(res.code).toBe(1);
  expect(res.stderr).toMatch(/broken\.yaml:5:\d+ gears\.gen\.config\.rate: /);
  const unknown = await cli(["scenario", "activate", "no-such-flow"]);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain("404");
});

it("a routing loop dies at max_hops and an oversized message is refused, each in the dead-letter subject with why", async () => {
  const rack = startRack("rack-loop-01", mixer.natsUrl, { FLUXRIG_RACK_MAX_PAYLOAD_SIZE: "4KiB" });
  await rack.waitFor(/connected to/);
  const port = await freePort();
  const file = join(dir, "loop.yaml");
  await writeFile(
    file,
    `meta: { name: loop, version: "1" }
allow_cycles: true
racks:
  edge: { name: rack-loop-01 }
gears:
  api: { type: http-in, rack: edge, config: { port: ${port}, reply_timeout: 1s } }
  a: { type: transform, rack: edge, config: { ops: [{ set: meta.lap, value: "a" }] } }
  b: { type: transform, rack: edge, config: { ops: [{ set: meta.lap, value: "b" }] } }
wires:
  - { from: api.out, to: a.in }
  - { from: a.out, to: b.in }
  - { from: b.out, to: a.in }
`,
  );
  expect((await cli(["scenario", "import", file])).code).toBe(0);
  expect((await cli(["scenario", "activate", "loop", "--wait"])).code).toBe(0);

  const nc = await mixer.connectBus();
  try {
    const letters = nc.subscribe("flux.dlq.msg.rack-loop-01", { max: 2 });
    const post = (body: string) =>
      fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
    await post(JSON.stringify({ lap: 0 }));
    await post(JSON.stringify({ blob: "x".repeat(8_000) }));
    const reasons: string[] = [];
    for await (const letter of letters) reasons.push(letter.headers?.get("Fluxrig-Dead-Letter-Reason") ?? "");
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^max_hops exceeded: 9 hops, .* is 8 \(a routing loop\?\)/),
        expect.stringMatching(/^max_payload_size exceeded: \d+ bytes encoded, rack.max_payload_size is 4096/),
      ]),
    );
  } finally {
    await nc.close();
    expect(await rack.stop()).toBe(0);
  }
}, 120_000);
