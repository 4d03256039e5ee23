import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstream } from "@nats-io/jetstream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readLanePayload } from "../rack-agent/src/flow/lane-frame.ts";
import { decodeFluxMsg } from "../shared/fluxmsg/codec.ts";
import { fluxMsgSubject } from "../shared/fluxmsg/subjects.ts";
import { nativeQuery } from "./helpers/native-duckdb.ts";
import { type RunningBin, startBin } from "./helpers/run-bin.ts";
import { storedParquetList } from "./helpers/stored-files.ts";
import { eventually, fluxrigCli, rackEnv, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

/**
 * `journal: {guaranteed_wires: true}` with a rack SIGKILLed mid-flow: the lane acks a message only once its
 * journal record is durable (acknowledged by JetStream, or in the rack's spool on disk), so every message the
 * lane carried ends up journaled at its receiving gear, including those whose frames were acked just before
 * the kill. (Before, the record sat up to 200 ms in memory after the ack, and died with the process.)
 */

let mixer: TestMixer;
let dir: string;
let rack: RunningBin | undefined;

const RACK = "rack-jd-01";
const SCENARIO = `meta: { name: durable-journal, version: "1" }
journal: { guaranteed_wires: true }
racks:
  edge: { name: ${RACK} }
gears:
  gen: { type: generator, config: { rate: 400, count: 3000, type: order } }
  sink: { type: log-sink, config: { level: debug, data: false } }
wires:
  - { from: gen.out, to: sink.in, lane: guaranteed }
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-journal-durable-"));
  mixer = await startTestMixer({
    env: {
      FLUXRIG_ENROLLMENT_AUTO_ADOPT: "true",
      FLUXRIG_INGEST_FLUSH_INTERVAL: "1s",
      FLUXRIG_MIXER_SCENARIO_WAIT_TIMEOUT: "30s",
    },
  });
}, 400_000);

afterAll(async () => {
  await rack?.stop("SIGKILL");
  await mixer?.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** The flux ids of every message the lane `flux.msg.edge.sink.in` holds (frames decoded as the rack does). */
async function laneFluxIds(): Promise<Set<string>> {
  const nc = await mixer.connectBus();
  try {
    const js = jetstream(nc, { domain: "flux" });
    // One subject as a string: nats-server 2.9 takes no filter_subjects list.
    const consumer = await js.consumers.get("flux-msg", {
      filter_subjects: fluxMsgSubject("edge", "sink", "in"),
    });
    const ids = new Set<string>();
    for (;;) {
      const before = ids.size;
      const batch = await consumer.fetch({ max_messages: 1_000, expires: 2_000 });
      let frames = 0;
      for await (const m of batch) {
        frames++;
        for (const entry of readLanePayload(m.data)) ids.add((entry.msg ?? decodeFluxMsg(entry.data)).id);
      }
      if (frames === 0 || ids.size === before) return ids;
    }
  } finally {
    await nc.close();
  }
}

/** Flux ids journaled as delivered to the sink (status ok), from the Parquet files the mixer stored. */
async function journaledFluxIds(): Promise<Set<string>> {
  const list = await storedParquetList(mixer, "messages/generic/", dir);
  if (list === "[]") return new Set();
  const rows = await nativeQuery(`SELECT DISTINCT flux_id::VARCHAR AS id FROM read_parquet(${list})
      WHERE dst_gear_id = 'sink' AND status = 'ok'`);
  return new Set(rows.map((row) => row.id as string));
}

it("a rack SIGKILLed mid-flow loses no journal record of a message its guaranteed lane acked", async () => {
  const start = () => startBin("fluxrig", ["run"], { env: rackEnv(mixer, dir, RACK) });
  rack = start();
  await rack.waitFor(/connected to/, { timeoutMs: 60_000 });
  const file = join(dir, "durable-journal.yaml");
  await writeFile(file, SCENARIO);
  expect((await fluxrigCli(mixer, ["scenario", "import", file])).code).toBe(0);
  const activated = await fluxrigCli(mixer, ["scenario", "activate", "durable-journal", "--wait"]);
  expect(activated.code, activated.stdout + activated.stderr).toBe(0);

  // Killed while messages flow: frames acked a moment before have their records in flight.
  await sleep(2_500);
  expect(await rack.stop("SIGKILL")).toBe(null);
  const carried = await laneFluxIds();
  expect(carried.size).toBeGreaterThan(100);
  expect(carried.size).toBeLessThan(3_000);

  rack = start();
  await rack.waitFor(/running the stored scenario part of durable-journal 1/, { timeoutMs: 60_000 });
  // The restarted generator runs again (new flux ids); every message the lane carried, before the kill and
  // after, is journaled once the flow has drained.
  const journaled = await eventually(
    "every message on the lane journaled at the sink",
    async () => {
      const [lane, journaled] = [await laneFluxIds(), await journaledFluxIds()];
      const left = [...lane].filter((id) => !journaled.has(id));
      // Thrown, so that a timeout says how many are missing.
      if (left.length > 0) throw new Error(`${left.length} of ${lane.size} lane messages not journaled`);
      return lane.size > carried.size ? journaled : undefined;
    },
    120_000,
  );
  expect([...carried].filter((id) => !journaled.has(id))).toEqual([]);
}, 300_000);
