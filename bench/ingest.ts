/**
 * End-to-end ingest: N racks' worth of synthetic logs through the real path (rack telemetry client →
 * nats-server → the mixer's Snake bridge in workerd under wrangler dev → Parquet in local R2), for a fixed
 * duration at a target rate, then counted back from the Parquet files with native DuckDB.
 *
 *   npm run bench:ingest -- [--racks 4] [--rate 100000] [--seconds 10] [--auth none|jwt|both] [--bridges 1]
 *                           [--cpu-profile FILE]   (the Worker's CPU profile over the run, and its top functions)
 *
 * Baseline, in the same run and against the same nats-server: raw JetStream publish of the same CBOR
 * batches (pre-encoded, window 256, msg ids) into a stream nobody consumes. With `--auth both` (the
 * default) the whole run is made twice, on a bus without auth and on one in operator mode where each rack
 * presents its own user JWT with a rack's permissions, and the second is given as a ratio of the first.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { BusAuth } from "./bus-credentials.ts";
import {
  describeRun,
  fmt,
  type IngestRun,
  ndjsonBytes,
  rawPublishBaseline,
  runIngest,
  startBenchMixer,
} from "./ingest-run.ts";
import { profileWorker } from "./worker-profile.ts";

const { values } = parseArgs({
  options: {
    racks: { type: "string", default: "4" },
    rate: { type: "string", default: "100000" },
    seconds: { type: "string", default: "10" },
    auth: { type: "string", default: "both" },
    // ingest.bridges: how many bridges pull the ingest consumer.
    bridges: { type: "string", default: "1" },
    "cpu-profile": { type: "string" },
  },
});
const RACKS = Number(values.racks);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const BRIDGES = Number(values.bridges);
const AUTHS: Record<string, BusAuth[]> = { none: ["none"], jwt: ["jwt"], both: ["none", "jwt"] };
const auths = AUTHS[values.auth];
if (!auths) throw new Error(`--auth ${values.auth}: expected none, jwt or both`);

/** One whole run on a new mixer: its ingest, then the raw-publish baseline on the same bus. */
async function measure(auth: BusAuth): Promise<IngestRun & { baselineRate: number }> {
  const work = await mkdtemp(join(tmpdir(), "fluxrig-bench-ingest-"));
  const mixer = await startBenchMixer(auth, BRIDGES);
  try {
    const profilePath = values["cpu-profile"];
    const profile = profilePath ? await profileWorker(mixer.inspectorPort) : undefined;
    const run = await runIngest(mixer, { signal: "logs", racks: RACKS, rate: RATE, seconds: SECONDS, work });
    if (profile) console.log((await profile.stop(`${profilePath}.${auth}.cpuprofile`)).join("\n"));
    const ndjson = await ndjsonBytes(run.paths, work);
    // The run's figures first: a long run's baseline (that many batches into a stream nobody reads) can time
    // out, and took the run's figures with it (a 30 s run of 6M records).
    console.log(
      [
        "",
        `snake.auth = ${auth}`,
        ...describeRun(run),
        `NDJSON of the same rows               ${(ndjson / run.rows).toFixed(1)} B/record`,
      ].join("\n"),
    );
    const baselineSeconds = await rawPublishBaseline(
      mixer,
      run.batches,
      Math.round(run.wireBytes / run.batches),
    );
    const baselineRate = run.sent / baselineSeconds;
    console.log(
      [
        `baseline: raw JetStream publish      ${fmt(baselineRate)} records/s (same batches, window 256)`,
        `ratio end-to-end / baseline          ${(run.e2eRate / baselineRate).toFixed(3)}`,
      ].join("\n"),
    );
    return { ...run, baselineRate };
  } finally {
    await mixer.dispose();
    await rm(work, { recursive: true, force: true });
  }
}

console.log(
  `ingest bench: ${RACKS} racks, ${fmt(RATE)} records/s target for ${SECONDS} s, auth ${auths.join(" then ")}, ${BRIDGES} bridge(s)`,
);
const runs = [];
for (const auth of auths) runs.push(await measure(auth));
const [off, on] = runs;
if (off && on) {
  const ratio = (a: number, b: number) => (a / b).toFixed(3);
  console.log(
    [
      "",
      "operator mode (rack JWTs) / no auth, same command:",
      `  emit rate (racks → JetStream)      ${ratio(on.emitRate, off.emitRate)}`,
      `  end to end (emit → all in R2)      ${ratio(on.e2eRate, off.e2eRate)}`,
      // Not a normaliser: on a quiet machine it moved 0.88 to 1.27 between runs on its own.
      `  raw JetStream publish baseline     ${ratio(on.baselineRate, off.baselineRate)}`,
    ].join("\n"),
  );
}
