/**
 * End-to-end ingest: N racks' worth of synthetic logs through the real path (rack telemetry client →
 * nats-server → the mixer's Snake bridge in workerd under wrangler dev → Parquet in local R2), for a fixed
 * duration at a target rate, then counted back from the Parquet files with native DuckDB.
 *
 *   npm run bench:ingest -- [--racks 4] [--rate 100000] [--seconds 10]
 *
 * Baseline, in the same run and against the same nats-server: raw JetStream publish of the same CBOR
 * batches (pre-encoded, window 256, msg ids) into a stream nobody consumes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  describeRun,
  fmt,
  ndjsonBytes,
  rawPublishBaseline,
  runIngest,
  startBenchMixer,
} from "./ingest-run.ts";

const { values } = parseArgs({
  options: {
    racks: { type: "string", default: "4" },
    rate: { type: "string", default: "100000" },
    seconds: { type: "string", default: "10" },
  },
});
const RACKS = Number(values.racks);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);

const work = await mkdtemp(join(tmpdir(), "fluxrig-bench-ingest-"));
console.log(`ingest bench: ${RACKS} racks, ${fmt(RATE)} records/s target for ${SECONDS} s`);
const mixer = await startBenchMixer();
try {
  const run = await runIngest(mixer, { signal: "logs", racks: RACKS, rate: RATE, seconds: SECONDS, work });
  const ndjson = await ndjsonBytes(run.paths, work);
  const baselineSeconds = await rawPublishBaseline(
    mixer.natsUrl,
    run.batches,
    Math.round(run.wireBytes / run.batches),
  );
  console.log(
    [
      "",
      ...describeRun(run),
      `NDJSON of the same rows               ${(ndjson / run.rows).toFixed(1)} B/record`,
      `baseline: raw JetStream publish      ${fmt(run.sent / baselineSeconds)} records/s (same batches, window 256)`,
      `ratio end-to-end / baseline          ${(run.e2eRate / (run.sent / baselineSeconds)).toFixed(3)}`,
    ].join("\n"),
  );
} finally {
  await mixer.dispose();
  await rm(work, { recursive: true, force: true });
}
