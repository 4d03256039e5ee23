import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { decode } from "cbor-x";
import { afterAll, beforeAll, expect, it } from "vitest";
import { spoolEntries } from "../rack-agent/src/telemetry/spool.ts";
import { telemetryBatchSchema } from "../shared/telemetry/batch.ts";
import { freePort } from "./helpers/free-port.ts";
import { nativeQuery } from "./helpers/native-duckdb.ts";
import { runBin, startBin } from "./helpers/run-bin.ts";
import { storedParquetList } from "./helpers/stored-files.ts";
import { readTelemetryStream } from "./helpers/telemetry-stream.ts";
import { eventually, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

/**
 * The rack as an operator meets it on real hardware: started before its bus exists, logging to a file and to
 * telemetry, and killed mid-outage. One mixer for the file (its start is the slow part).
 */
const RACK = "rack-ops-01";
const TOKEN = "ops-bootstrap-token-0123456789";

let dir: string;
let mixer: TestMixer | undefined;
let natsPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-outage-"));
  natsPort = await freePort();
});

afterAll(async () => {
  if (mixer) process.kill(mixer.natsServerPid(), "SIGCONT");
  await mixer?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const stateDir = () => join(dir, RACK);
const rackEnv = () => ({
  FLUXRIG_BASE_NAME: RACK,
  FLUXRIG_BASE_STATE_DIR: stateDir(),
  FLUXRIG_SNAKE_URL: `nats://127.0.0.1:${natsPort}`,
  FLUXRIG_SNAKE_CONNECT_TIMEOUT: "1s",
  FLUXRIG_SNAKE_RECONNECT_WAIT: "200ms",
  FLUXRIG_RACK_BOOTSTRAP_TOKEN: TOKEN,
  FLUXRIG_RACK_HEARTBEAT_INTERVAL: "2s",
});
const cli = (args: string[]) =>
  runBin("fluxrig", [...args, "--api-url", (mixer as TestMixer).apiUrl], {
    env: { FLUXRIG_API_TOKEN: (mixer as TestMixer).env.FLUXRIG_API_TOKEN as string },
  });

interface ApiLog {
  record_id: string;
  message: string;
  ts: string;
}
async function storedLogs(args: string[], since = "30m"): Promise<ApiLog[]> {
  const query = ["logs", "--entity", RACK, "--since", since, "--limit", "1000", "-o", "json"];
  const answer = await cli([...query, ...args]);
  if (answer.code !== 0) throw new Error(answer.stderr);
  return (JSON.parse(answer.stdout) as { logs: ApiLog[] }).logs;
}

/** Record ids of the log records in the rack's spool files, as the next start will send them. */
async function spooledLogIds(): Promise<string[]> {
  const spool = join(stateDir(), "spool", "telemetry");
  const ids: string[] = [];
  for (const name of (await readdir(spool)).filter((n) => n.endsWith(".cbor"))) {
    const { data } = decode(await readFile(join(spool, name))) as { data: Uint8Array };
    const batch = telemetryBatchSchema.parse(decode(data));
    if (batch.kind === "logs") ids.push(...batch.records.map((r) => (r as { record_id: string }).record_id));
  }
  return ids;
}

it("a first start without a passport waits for the bus, then enrolls; its own lines reach the log file and `fluxrig logs`", async () => {
  const rack = startBin("fluxrig", ["run"], { env: rackEnv() });
  try {
    await rack.waitFor(
      /warn cannot connect to Snake at nats:\/\/127\.0\.0\.1:\d+: .*this rack has no passport yet and must enroll over the bus: trying again every 200 ms/,
    );
    mixer = await startTestMixer({
      env: {
        FLUXRIG_SNAKE_PORT: String(natsPort),
        // An open bus: the rack starts first, before this mixer has made the bus's keys and its enrollment
        // token (bus-credentials.test.ts covers operator mode end to end).
        FLUXRIG_SNAKE_AUTH: "none",
        FLUXRIG_SNAKE_DURABLE: "true",
        FLUXRIG_ENROLLMENT_AUTO_ADOPT: "true",
        FLUXRIG_ENROLLMENT_BOOTSTRAP_TOKEN: TOKEN,
        FLUXRIG_INGEST_FLUSH_INTERVAL: "1s",
      },
    });
    await rack.waitFor(/reached nats:\/\/127\.0\.0\.1:\d+ after \d+ failed attempt/);
    await rack.waitFor(/passport: rack \S+ is active/);
    await rack.waitFor(/connected to nats:/);
    expect(rack.output).not.toMatch(/exited|error/);

    // The file: JSON lines with the level and message (the default path, under the state dir).
    const file = (await readFile(join(stateDir(), "logs", "fluxrig-rack.log"), "utf8")).trim().split("\n");
    const lines = file.map((line) => JSON.parse(line) as { level: string; msg: string; time: string });
    expect(lines.find((l) => l.msg.startsWith("enrolled as rack"))).toMatchObject({ level: "info" });

    // Telemetry: lines from before the rack had telemetry (no passport, no bus) are there too.
    const stored = await eventually("the rack's own lines in the logs table", async () => {
      const logs = await storedLogs(["-q", "passport"]);
      return logs.some((l) => l.message.includes("no passport yet")) &&
        logs.some((l) => l.message.includes("is active"))
        ? logs
        : undefined;
    });
    expect(stored.length).toBeGreaterThanOrEqual(2);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- rack ---\n${rack.output}`);
  } finally {
    expect(await rack.stop()).toBe(0);
  }
}, 150_000);

it("a rack killed with SIGKILL during a bus outage sends what it spooled when it comes back", async () => {
  const scenario = join(dir, "ticks.yaml");
  await writeFile(
    scenario,
    `meta: {name: ticks, version: "1"}
racks:
  edge: { name: ${RACK} }
gears:
  gen: { type: generator, config: { rate: 20, type: tick } }
  sink: { type: log-sink, config: {} }
wires:
  - { from: gen.out, to: sink.in }
`,
  );
  const rack = startBin("fluxrig", ["run"], { env: rackEnv() });
  let again: ReturnType<typeof startBin> | undefined;
  const stage = (what: string) => console.log(`${new Date().toISOString()} ${what}`);
  try {
    await rack.waitFor(/connected to nats:/);
    stage("rack online");
    expect((await cli(["scenario", "import", scenario])).code).toBe(0);
    const activated = await cli(["scenario", "activate", "ticks", "--wait"]);
    expect(activated.code, activated.stdout + activated.stderr).toBe(0);

    // The outage: nats-server frozen (a partition: connections hang, nothing is refused).
    const nats = (mixer as TestMixer).natsServerPid();
    stage("activated");
    // The window the spooled lines lie in; the generator goes on after, and the query's limit is 1000.
    const since = new Date(Date.now() - 30_000).toISOString();
    process.kill(nats, "SIGSTOP");
    let frozen = true;
    try {
      // Publishes time out, then their batches go to the spool.
      const spooled = await eventually("gear lines in the spool", async () => {
        const ids = await spooledLogIds().catch(() => []);
        return ids.length >= 40 ? ids : undefined;
      });
      stage(`spooled ${spooled.length}`);
      rack.stop("SIGKILL");
      await rack.exited;
      const until = new Date(Date.now() + 1_000).toISOString();
      const left = await spooledLogIds();
      expect(left.length).toBeGreaterThanOrEqual(spooled.length);

      // Restarted while the bus is still down: it runs on its cached passport, then the bus comes back.
      again = startBin("fluxrig", ["run"], { env: rackEnv() });
      try {
        await again.waitFor(/starting on the cached passport/);
        process.kill(nats, "SIGCONT");
        frozen = false;
        await again.waitFor(/connected to nats:/, { timeoutMs: 30_000 });
        stage("restarted rack online");
        const ids = await eventually(
          "every spooled record stored",
          async () => {
            const stored = new Set(
              (await storedLogs(["-q", "tick", "--until", until], since)).map((l) => l.record_id),
            );
            stage(`stored ${left.filter((id) => stored.has(id)).length} of ${left.length} spooled`);
            return left.every((id) => stored.has(id)) ? stored : undefined;
          },
          30_000,
        );
        expect(ids.size).toBeGreaterThanOrEqual(left.length);
        stage("all stored");
        await eventually("an empty spool", async () =>
          (await spooledLogIds()).length === 0 ? true : undefined,
        );
      } finally {
        expect(await again.stop()).toBe(0);
      }
    } finally {
      if (frozen) process.kill(nats, "SIGCONT");
    }
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\n--- rack ---\n${rack.output}\n--- restarted ---\n${again?.output ?? ""}`,
    );
  } finally {
    await rack.stop();
  }
}, 120_000);

/** Records a second the rack emits through the outage (the steady load); 60 s of it is bench:rack's. */
const RATE = 5_000;
/** Seconds of load, and of the outage within them: short, as the whole suite must stay fast. */
const LOAD_S = 20;
const OUTAGE_S = 8;
const STEADY_SPAN = "gear steady receive";

/** Record ids of the steady generator's spans in the telemetry stream itself (durable: acks delete nothing). */
async function steadyIdsInStream(): Promise<Set<string>> {
  const nc = await (mixer as TestMixer).connectBus();
  try {
    const stored = await readTelemetryStream(await jetstreamManager(nc, { domain: "flux" }));
    const ids = new Set<string>();
    for (const { batch } of stored) {
      if (batch.kind !== "traces") continue;
      for (const record of batch.records as { record_id: string; span_name: string }[]) {
        if (record.span_name === STEADY_SPAN) ids.add(record.record_id);
      }
    }
    return ids;
  } finally {
    await nc.close();
  }
}

it(`a bus frozen for ${OUTAGE_S} s under a steady ${RATE} records/s, then SIGKILLed and restarted: every record reaches the stream and Parquet`, async () => {
  const total = RATE * LOAD_S;
  const scenario = join(dir, "steady.yaml");
  // A lone generator: each message it makes is one span (\`gear steady receive\`), so records = messages.
  await writeFile(
    scenario,
    `meta: {name: steady, version: "1"}
racks:
  edge: { name: ${RACK} }
gears:
  steady: { type: generator, config: { rate: ${RATE}, count: ${total}, type: load } }
wires: []
`,
  );
  const rack = startBin("fluxrig", ["run"], { env: rackEnv() });
  const stage = (what: string) => console.log(`${new Date().toISOString()} ${what}`);
  let frozen = 0;
  try {
    await rack.waitFor(/connected to nats:/);
    expect((await cli(["scenario", "import", scenario])).code).toBe(0);
    const activated = await cli(["scenario", "activate", "steady", "--wait"]);
    expect(activated.code, activated.stdout + activated.stderr).toBe(0);
    stage("load running");
    await new Promise((resolve) => setTimeout(resolve, 4_000));

    // The outage: nats-server stops answering (frozen, as in a partition: the rack's publishes time out and
    // its connection looks alive), then dies without a clean stop; the launcher starts it again on the same
    // ports and durable store, as a service manager would. A standalone nats-server writes each message to its
    // block file before acknowledging it, so a SIGKILL (unlike a power cut) loses nothing it acknowledged.
    frozen = (mixer as TestMixer).natsServerPid();
    process.kill(frozen, "SIGSTOP");
    stage("bus frozen");
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_S * 1_000));
    process.kill(frozen, "SIGKILL");
    const killed = frozen;
    frozen = 0;
    await eventually("a new nats-server", async () =>
      (mixer as TestMixer).natsServerPid() !== killed ? true : undefined,
    );
    stage("bus killed and restarted");

    // Every record the rack made is in the stream (at least once: a batch spooled after a timed-out publish
    // may have landed too, and JetStream drops a copy only within its duplicate window)...
    const inStream = await eventually(
      `all ${total} records in the stream`,
      async () => {
        const ids = await steadyIdsInStream();
        stage(`in the stream: ${ids.size}`);
        return ids.size >= total ? ids : undefined;
      },
      90_000,
    );
    expect(inStream.size).toBe(total);
    // ...and in Parquet, each message's span under its own record id: no record lost, none re-emitted under a
    // new id (ingest is at-least-once, so rows may repeat; readers deduplicate by record_id).
    const counted = await eventually(
      `all ${total} records stored`,
      async () => {
        const files = await storedParquetList(mixer as TestMixer, "telemetry/traces/", dir);
        if (files === "[]") return undefined;
        const [row] = await nativeQuery(`SELECT count(*)::INT AS n, count(DISTINCT record_id)::INT AS ids,
            count(DISTINCT flux_id)::INT AS fluxes FROM read_parquet(${files})
            WHERE span_name = '${STEADY_SPAN}' AND entity_name = '${RACK}'`);
        stage(`stored ${JSON.stringify(row)}`);
        return (row?.ids as number) >= total ? row : undefined;
      },
      90_000,
    );
    expect(counted).toMatchObject({ ids: total, fluxes: total });
    expect(rack.output).not.toMatch(/dropped \d+ record/);
    // Nothing left behind in the spool: what it held was sent, not forgotten.
    await eventually("an empty telemetry spool", async () =>
      (await spoolEntries(join(stateDir(), "spool", "telemetry"))).length === 0 ? true : undefined,
    );
  } catch (error) {
    // Where the missing records are: still in the rack's spool, in the stream but not in Parquet, or given up by
    // the rack (its counters: sent, spooled, dropped).
    const spooled = await spoolEntries(join(stateDir(), "spool", "telemetry")).catch(() => []);
    const inStream = await steadyIdsInStream().then(
      (ids) => String(ids.size),
      (failure: Error) => failure.message,
    );
    const counters = await readFile(join(stateDir(), "status.json"), "utf8").then(
      (text) => JSON.stringify((JSON.parse(text) as { spool: { telemetry: unknown } }).spool.telemetry),
      (failure: Error) => failure.message,
    );
    const told = rack.output.split("\n").filter((line) => /telemetry|spool|dropped/.test(line));
    throw new Error(
      `${(error as Error).message}\nsteady records in the stream: ${inStream}; batches left in the rack's spool: ` +
        `${spooled.length} (${spooled.reduce((sum, e) => sum + e.records, 0)} records); the rack's telemetry ` +
        `counters: ${counters}\n--- rack ---\n${told.join("\n")}`,
    );
  } finally {
    if (frozen) process.kill(frozen, "SIGCONT");
    expect(await rack.stop("SIGTERM")).toBe(0);
  }
}, 300_000);
