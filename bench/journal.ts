/**
 * Journal records end to end into Parquet: N racks' clients publish journal records (`Telemetry.journal`, as
 * the journal gear does) → nats-server → the bridge's `mixer-journal` consumer in workerd → `messages/generic/`
 * in local R2, counted back with native DuckDB. Baseline in the same run, on the same mixer: the same number
 * of telemetry logs through the `mixer-ingest` consumer (the path the target figure was set on).
 *
 *   npm run bench:journal -- [--racks 4] [--rate 100000] [--seconds 10] [--source racks|replay] [--bridges 1]
 *                            [--cpu-profile FILE]
 *
 * `--source replay`: the racks' batches encoded once and published again with new record ids, as fast as
 * JetStream takes them (rate × seconds records): the mixer alone, draining a backlog (replay-batches.ts).
 *
 * `--cpu-profile FILE`: the Worker's CPU profile over the journal run (FILE.journal.cpuprofile) and its top
 * functions.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { describeRun, fmt, ingestSource, runIngest, startBenchMixer } from "./ingest-run.ts";
import { profileWorker } from "./worker-profile.ts";

const { values } = parseArgs({
  options: {
    racks: { type: "string", default: "4" },
    rate: { type: "string", default: "100000" },
    seconds: { type: "string", default: "10" },
    source: { type: "string", default: "racks" },
    // ingest.bridges: how many bridges pull the journal (and ingest) consumers.
    bridges: { type: "string", default: "1" },
    "cpu-profile": { type: "string" },
  },
});
const settings = {
  racks: Number(values.racks),
  rate: Number(values.rate),
  seconds: Number(values.seconds),
  source: ingestSource(values.source),
};

const work = await mkdtemp(join(tmpdir(), "fluxrig-bench-journal-"));
console.log(
  `journal bench: ${settings.racks} racks, ${fmt(settings.rate)} records/s target for ${settings.seconds} s, then the same as logs`,
);
const mixer = await startBenchMixer("none", Number(values.bridges));
try {
  const profilePath = values["cpu-profile"];
  const profile = profilePath ? await profileWorker(mixer.inspectorPort) : undefined;
  const journal = await runIngest(mixer, { signal: "journal", ...settings, work });
  if (profile) console.log((await profile.stop(`${profilePath}.journal.cpuprofile`)).join("\n"));
  const logs = await runIngest(mixer, { signal: "logs", ...settings, work });
  console.log(
    [
      "",
      ...describeRun(journal),
      "",
      ...describeRun(logs),
      "",
      `ratio journal / logs end to end       ${(journal.e2eRate / logs.e2eRate).toFixed(3)}`,
    ].join("\n"),
  );
} finally {
  await mixer.dispose();
  await rm(work, { recursive: true, force: true });
}
