import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startNatsServer } from "./helpers/nats-server.ts";
import { type RunningBin, runBin, startBin } from "./helpers/run-bin.ts";
import { startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

let mixer: TestMixer;
let dir: string;
const running: RunningBin[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-spec-flow-"));
  mixer = await startTestMixer({
    env: { FLUXRIG_ENROLLMENT_AUTO_ADOPT: "true", FLUXRIG_MIXER_SCENARIO_WAIT_TIMEOUT: "20s" },
  });
}, 180_000);

afterAll(async () => {
  for (const bin of running) await bin.stop("SIGKILL");
  await mixer?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[]) =>
  runBin("fluxrig", [...args, "--api-url", mixer.apiUrl], {
    env: { FLUXRIG_API_TOKEN: mixer.env.FLUXRIG_API_TOKEN as string },
    timeoutMs: 60_000,
  });

function startRack(name: string, snakeUrl = mixer.natsUrl): RunningBin {
  const rack = startBin("fluxrig", ["run"], {
    env: {
      FLUXRIG_BASE_NAME: name,
      FLUXRIG_BASE_STATE_DIR: join(dir, name),
      FLUXRIG_SNAKE_URL: snakeUrl,
      FLUXRIG_RACK_BOOTSTRAP_TOKEN: mixer.bootstrapToken,
      FLUXRIG_RACK_HEARTBEAT_INTERVAL: "2s",
    },
  });
  running.push(rack);
  return rack;
}

it("spec import, list, show; a scenario naming it is refused until the mixer holds it, then runs with the spec pushed in the part, also without the mixer", async () => {
  const scenario = join(dir, "visa-auth.yaml");
  await writeFile(
    scenario,
    (await readFile("examples/scenarios/visa-auth.yaml", "utf8")).replace("rack-edge-01", "rack-spec-01"),
  );
  const early = await cli(["scenario", "import", scenario]);
  expect(early.code).toBe(1);
  expect(early.stderr).toMatch(/visa-auth\.yaml:20:\d+ gears\.decode\.config\.spec: unknown spec "visa-v1"/);

  const broken = join(dir, "broken-spec.yaml");
  await writeFile(
    broken,
    (await readFile("examples/specs/visa-v1.yaml", "utf8")).replace("format: llvar", "format: lvar"),
  );
  const refused = await cli(["spec", "import", broken]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/broken-spec\.yaml:26:\d+ fields\[1\]\.iso8583/);

  const imported = await cli(["spec", "import", "examples/specs/visa-v1.yaml"]);
  expect(imported.stderr).toBe("");
  expect(imported.stdout).toMatch(/^imported visa-v1 1\.0\.0 \([0-9a-f]{12}\): iso8583, 13 fields\n$/);
  expect((await cli(["spec", "import", "examples/specs/visa-v1.yaml"])).stdout).toMatch(
    /^already stored: visa-v1/,
  );
  const list = await cli(["spec", "list"]);
  expect(list.stdout).toMatch(
    /^ID\s+VERSION\s+HASH\s+IMPORTED\s+DESCRIPTION\nvisa-v1\s+1\.0\.0\s+[0-9a-f]{12}\s+/,
  );
  const shown = await cli(["spec", "show", "visa-v1:1.0.0"]);
  expect(shown.stdout).toMatch(
    /^visa-v1 1\.0\.0 \([0-9a-f]{64}\), imported .*\nversions: 1\.0\.0\n\n# A card authorization/,
  );
  const json = JSON.parse((await cli(["spec", "show", "visa-v1", "-o", "json"])).stdout) as {
    spec: { fields: unknown[] };
  };
  expect(json.spec.fields).toHaveLength(13);
  expect((await cli(["spec", "show", "visa-v1:9"])).stderr).toContain("no version 9 of spec visa-v1");

  const rack = startRack("rack-spec-01");
  await rack.waitFor(/passport: rack \S+ is active/);
  await rack.waitFor(/connected to/);
  expect((await cli(["scenario", "import", scenario])).code).toBe(0);
  const activated = await cli(["scenario", "activate", "visa-auth", "--wait"]);
  expect(activated.code, activated.stdout + activated.stderr).toBe(0);
  // The codec started: it found visa-v1 in the part the mixer pushed.
  await rack.waitFor(/scenario visa-auth 1\.0\.0 \([0-9a-f]{12}\) on edge: 5 started/);
  expect(await rack.stop()).toBe(0);

  // With the mixer gone, the rack starts on the stored part and its specs.
  const bus = await startNatsServer();
  try {
    const alone = startRack("rack-spec-01", bus.url);
    await alone.waitFor(/running the stored scenario part of visa-auth 1\.0\.0/);
    await alone.waitFor(/scenario visa-auth 1\.0\.0 \([0-9a-f]{12}\) on edge: 5 started/);
    expect(alone.output).not.toMatch(/not started|not held/);
    expect(await alone.stop()).toBe(0);
  } finally {
    await bus.stop();
  }
}, 240_000);
