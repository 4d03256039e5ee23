import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uuidv7 } from "uuidv7";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTelemetry } from "../rack-agent/src/telemetry/index.ts";
import { NATIVE_MESSAGE_COLUMNS, nativeQuery } from "./helpers/native-duckdb.ts";
import { type RunningBin, startBin } from "./helpers/run-bin.ts";
import { storedParquetList } from "./helpers/stored-files.ts";
import {
  busEnv,
  eventually,
  fluxrigCli,
  MIXER_START_MS,
  startTestMixer,
  type TestMixer,
} from "./helpers/test-mixer.ts";

/**
 * The journal end to end: a real rack process runs generator → journal → log-sink, journal records travel
 * over Snake to the mixer's second consumer and land as Parquet under messages/, read back by native DuckDB.
 * nats-server is killed mid-flow (the launcher restarts it on the same ports; streams are durable): no
 * journal record is lost, and none is stored twice once deduplicated by record_id.
 */

let mixer: TestMixer;
let dir: string;
let rack: RunningBin | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-journal-"));
  mixer = await startTestMixer({
    env: {
      FLUXRIG_ENROLLMENT_AUTO_ADOPT: "true",
      FLUXRIG_SNAKE_DURABLE: "true",
      FLUXRIG_INGEST_FLUSH_INTERVAL: "1s",
      FLUXRIG_MIXER_SCENARIO_WAIT_TIMEOUT: "20s",
    },
  });
}, MIXER_START_MS);

afterAll(async () => {
  await rack?.stop("SIGKILL");
  await mixer?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const TOTAL = 300;
const SCENARIO = `meta: { name: journaled, version: "1" }
racks:
  edge: { name: rack-journal-01 }
gears:
  gen: { type: generator, config: { rate: 40, count: ${TOTAL}, type: order } }
  ingress: { type: journal, config: { direction: inbound } }
  sink: { type: log-sink, config: { data: false } }
wires:
  - { from: gen.out, to: ingress.in }
  - { from: ingress.out, to: sink.in }
`;

/** Every stored journal object under a prefix, downloaded; the SQL list of their local paths. */
const storedMessages = (prefix: string) => storedParquetList(mixer, prefix, dir);

it("journals every message the flow handled into messages/generic, through a bus outage, each record once", async () => {
  rack = startBin("fluxrig", ["run"], {
    env: {
      FLUXRIG_BASE_NAME: "rack-journal-01",
      FLUXRIG_BASE_STATE_DIR: join(dir, "rack"),
      FLUXRIG_SNAKE_URL: mixer.natsUrl,
      FLUXRIG_SNAKE_RECONNECT_WAIT: "250ms",
      FLUXRIG_RACK_BOOTSTRAP_TOKEN: mixer.bootstrapToken,
      FLUXRIG_RACK_HEARTBEAT_INTERVAL: "1s",
      ...busEnv(mixer),
    },
  });
  await rack.waitFor(/connected to/);
  const file = join(dir, "journaled.yaml");
  await writeFile(file, SCENARIO);
  const cli = (args: string[]) => fluxrigCli(mixer, args);
  expect((await cli(["scenario", "import", file])).code).toBe(0);
  const activated = await cli(["scenario", "activate", "journaled", "--wait"]);
  expect(activated.code, activated.stderr).toBe(0);

  // Some records stored, then the bus dies under the flow (about 7 s of it left) and comes back.
  await eventually("the first journal records in R2", async () => {
    const health = (await (await fetch(`${mixer.apiUrl}/health`)).json()) as {
      journal: { records_stored: number };
    };
    return health.journal.records_stored > 0 ? true : undefined;
  });
  const firstPid = mixer.natsServerPid();
  process.kill(firstPid, "SIGKILL");
  await eventually("a new nats-server", async () => (mixer.natsServerPid() !== firstPid ? true : undefined));

  const files = await eventually(
    `all ${TOTAL} messages journaled`,
    async () => {
      const list = await storedMessages("messages/generic/");
      if (list === "[]") return undefined;
      const [row] = await nativeQuery(
        `SELECT count(DISTINCT flux_id)::INT AS fluxes FROM read_parquet(${list})`,
      );
      return (row?.fluxes as number) >= TOTAL ? list : undefined;
    },
    45_000,
  );
  expect(files).toMatch(/messages\/generic\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/fluxmsg_[0-9A-Z]{26}\.parquet/);

  const [counts] = await nativeQuery(`SELECT count(*)::INT AS n, count(DISTINCT record_id)::INT AS ids,
      count(DISTINCT flux_id)::INT AS fluxes FROM read_parquet(${files})`);
  // At-least-once: duplicates may sit in the files; after dedupe by record_id, one record per message.
  expect(counts?.ids).toBe(TOTAL);
  expect(counts?.fluxes).toBe(TOTAL);

  const described = await nativeQuery(`DESCRIBE SELECT * FROM read_parquet(${files})`);
  expect(described.map((c) => [c.column_name, c.column_type])).toEqual(NATIVE_MESSAGE_COLUMNS);
  const rows = await nativeQuery(`SELECT DISTINCT entity_name, src_gear_id, dst_gear_id, msg_type, direction,
      status, octet_length(raw_msg) > 0 AS has_raw, promoted IS NULL AS no_promoted FROM read_parquet(${files})`);
  expect(rows).toEqual([
    {
      entity_name: "rack-journal-01",
      src_gear_id: "gen",
      dst_gear_id: "ingress",
      msg_type: "order",
      direction: "inbound",
      status: "ok",
      has_raw: true,
      no_promoted: true,
    },
  ]);
}, 120_000);

it("stores promoted fields as JSON that native DuckDB reads with ->>, under messages/fluxSpec/<spec>/", async () => {
  const nc = await mixer.connectBus();
  const telemetry = await createTelemetry({
    nc,
    domain: "flux",
    entity: { id: uuidv7(), name: "rack-journal-02" },
    warn: console.warn,
    maxPayloadSize: 1 << 20,
    samplingRate: 1,
    enabled: true,
    stateDir: join(dir, "rack-2"),
  });
  const fluxId = uuidv7();
  await telemetry.journal({
    ts: Date.now(),
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    flux_id: fluxId,
    src_gear_id: "decode",
    dst_gear_id: "authorize",
    msg_type: "card.auth",
    direction: "internal",
    status: "error",
    raw_msg: new Uint8Array([0xa0]),
    promoted: { amount: 1500, currency: "EUR", pan: "411111******1111" },
    spec: "visa-v1",
  });
  await telemetry.close();
  await nc.close();
  const files = await eventually("the spec'd record in R2", async () => {
    const list = await storedMessages("messages/fluxSpec/visa-v1/");
    return list === "[]" ? undefined : list;
  });
  expect(files).toMatch(
    /messages\/fluxSpec\/visa-v1\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/visa_[0-9A-Z]{26}\.parquet/,
  );
  const [row] = await nativeQuery(`SELECT promoted ->> 'currency' AS currency,
      (promoted ->> 'amount')::INT AS amount, status, raw_msg FROM read_parquet(${files}) WHERE flux_id = '${fluxId}'`);
  expect(row).toMatchObject({ currency: "EUR", amount: 1500, status: "error" });
}, 60_000);
