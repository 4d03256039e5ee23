import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { decodeFluxMsg } from "../shared/fluxmsg/codec.ts";
import { decodeWithSpec, validateSpec } from "../shared/spec/index.ts";
import { nativeQuery } from "./helpers/native-duckdb.ts";
import { startNatsServer } from "./helpers/nats-server.ts";
import { type RunningBin, startBin } from "./helpers/run-bin.ts";
import { storedParquetList } from "./helpers/stored-files.ts";
import {
  eventually,
  fluxrigCli,
  MIXER_START_MS,
  rackEnv,
  startTestMixer,
  type TestMixer,
} from "./helpers/test-mixer.ts";

/** A card number in clear, as text: one of the generator's test BINs and ten more digits, standing alone. */
const CLEAR_PAN = /(?<!\d)(?:411111|400000|424242|476173|401288)\d{10}(?!\d)/;
const MASKED_PAN = /^\d{6}\*+\d{4}$/;
const visa = validateSpec(readFileSync("examples/specs/visa-v1.yaml", "utf8"));
if (!visa.ok) throw new Error("examples/specs/visa-v1.yaml does not validate");

let mixer: TestMixer;
let dir: string;
const running: RunningBin[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-spec-flow-"));
  mixer = await startTestMixer({
    env: { FLUXRIG_ENROLLMENT_AUTO_ADOPT: "true", FLUXRIG_MIXER_SCENARIO_WAIT_TIMEOUT: "20s" },
  });
}, MIXER_START_MS);

afterAll(async () => {
  for (const bin of running) await bin.stop("SIGKILL");
  await mixer?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => fluxrigCli(mixer, args);

function startRack(name: string, snakeUrl = mixer.natsUrl): RunningBin {
  const rack = startBin("fluxrig", ["run"], {
    env: {
      ...rackEnv(mixer, dir, name, snakeUrl),
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
  await rack.waitFor(/scenario visa-auth 1\.0\.0 \([0-9a-f]{12}\) on edge: 6 started/);

  // The journal gear keeps each decoded authorization under messages/fluxSpec/visa-v1/, masked by the spec.
  const files = await eventually(
    "ten journaled authorizations",
    async () => {
      const list = await storedParquetList(mixer, "messages/fluxSpec/visa-v1/", dir);
      if (list === "[]") return undefined;
      const [row] = await nativeQuery(
        `SELECT count(DISTINCT record_id)::INT AS n FROM read_parquet(${list})`,
      );
      return (row?.n as number) >= 10 ? list : undefined;
    },
    60_000,
  );
  const rows = await nativeQuery(`SELECT DISTINCT ON (record_id) flux_id::VARCHAR AS flux_id, msg_type,
      direction, promoted ->> 'pan' AS pan, promoted ->> 'currency' AS currency, promoted::VARCHAR AS promoted,
      raw_msg FROM read_parquet(${files})`);
  expect(rows.length).toBeGreaterThanOrEqual(10);
  for (const row of rows) {
    expect(row).toMatchObject({ msg_type: "card.auth.request", direction: "inbound" });
    expect(row.pan).toMatch(MASKED_PAN);
    expect(row.promoted).not.toMatch(CLEAR_PAN);
    // raw_msg is the whole fluxMsg: its decoded data and its ISO 8583 bytes both hold the PAN masked.
    const kept = decodeFluxMsg(row.raw_msg as Uint8Array);
    expect((kept.data as { card: { pan: string } }).card.pan).toMatch(MASKED_PAN);
    expect(JSON.stringify(kept.data)).not.toMatch(CLEAR_PAN);
    const fromRaw = decodeWithSpec(visa.spec, kept.raw as Uint8Array).data as { card: { pan: string } };
    expect(fromRaw.card.pan).toMatch(MASKED_PAN);
  }

  // The API's promoted filter returns exactly the messages whose promoted currency matches.
  const euro = rows.filter((row) => row.currency === "978").map((row) => row.flux_id);
  const filtered = await cli([
    "messages",
    "--spec",
    "visa-v1",
    "--promoted",
    "currency=978",
    "--since",
    "1h",
    "--limit",
    "1000",
    "-o",
    "json",
  ]);
  expect(filtered.code, filtered.stderr).toBe(0);
  const answer = JSON.parse(filtered.stdout) as {
    messages: { flux_id: string; promoted: { currency: string } }[];
  };
  expect(answer.messages.every((m) => m.promoted.currency === "978")).toBe(true);
  expect(new Set(euro).size).toBeGreaterThan(0);
  for (const id of euro) expect(answer.messages.map((m) => m.flux_id)).toContain(id);

  // One authorization's story: its journal hop, then its trace.
  const story = await cli(["flux", rows[0]?.flux_id as string]);
  expect(story.code, story.stderr).toBe(0);
  expect(story.stdout).toMatch(/decode\s*→\s*journal/);

  // Nowhere in clear: not in the rack's lines, its log file, or its stored logs.
  const logs = await cli([
    "logs",
    "--entity",
    "rack-spec-01",
    "--since",
    "1h",
    "--limit",
    "1000",
    "-o",
    "json",
  ]);
  expect(logs.stdout).not.toMatch(CLEAR_PAN);
  expect(rack.output).not.toMatch(CLEAR_PAN);
  expect(await readFile(join(dir, "rack-spec-01", "logs", "fluxrig-rack.log"), "utf8")).not.toMatch(
    CLEAR_PAN,
  );
  expect(await rack.stop()).toBe(0);

  // With the mixer gone, the rack starts on the stored part and its specs.
  const bus = await startNatsServer();
  try {
    const alone = startRack("rack-spec-01", bus.url);
    await alone.waitFor(/running the stored scenario part of visa-auth 1\.0\.0/);
    await alone.waitFor(/scenario visa-auth 1\.0\.0 \([0-9a-f]{12}\) on edge: 6 started/);
    expect(alone.output).not.toMatch(/not started|not held/);
    expect(await alone.stop()).toBe(0);
  } finally {
    await bus.stop();
  }
}, 240_000);
