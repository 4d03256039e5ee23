/**
 * The installed rack's footprint and its spool's speed, each against a baseline measured in the same run.
 *
 *   npm run bench:rack [-- --seconds 60 --rate 10000 --idle-seconds 20 --spool-records 200000 --only agent|spool
 *                         --bundle PATH --baseline-bundle PATH --unit PATH --baseline-unit PATH
 *                         --cpu-profile DIR]
 *
 * 1. Agent: the bundle (dist/fluxrig.mjs, built here) run with plain node, enrolled with the real local mixer.
 *    Baselines: a plain `node` process doing nothing (what any Node program costs on this machine), then the
 *    agent online and idle. Load: a scenario whose generator makes `--rate` messages a second, each one span
 *    record, for `--seconds`. RSS (from /proc, sampled every 500 ms) and CPU (utime + stime) of each process;
 *    targets at 10,000 records/s: <= 60 MiB RSS and <= 10% of one core. The rate the agent kept is read from its
 *    status file (records sent). Each bundle runs as the service unit runs it: the node flags of its ExecStart
 *    and its Environment= variables (but its FLUXRIG_* ones: the bench's config is its own).
 *    `--bundle` measures that file instead of building one; `--baseline-bundle` (e.g. main's build) is measured
 *    first the same way, against the same mixer, and the figures are given as ratios to it. `--unit` and
 *    `--baseline-unit` take the flags and environment from another unit file than packaging/'s (e.g. the
 *    baseline's as main has it: `git show main:packaging/fluxrig-rack.service > /tmp/main.service`).
 *    Peak RSS is the kernel's high-water mark (VmHWM) over the process's whole life, start-up included.
 *    `--cpu-profile DIR` writes each bundle's V8 CPU profile (idle and load, 0.5 ms sampling) to
 *    DIR/<rack name>.cpuprofile (an --import starts the inspector's profiler and writes it when the agent exits).
 * 2. Spool: the rack's telemetry client against a real nats-server. Baseline: `--spool-records` log records
 *    published with the bus up. Write: the same with the server stopped (every batch fsynced into the spool).
 *    Replay: the server back, until the spool is empty.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectSnake } from "../rack-agent/src/snake/connect.ts";
import { createTelemetry } from "../rack-agent/src/telemetry/index.ts";
import { buildRackBundle } from "../scripts/build-rack.ts";
import { loadConfig, mixerConfigSchema, rackConfigSchema } from "../shared/config/index.ts";
import { ensureStreams } from "../shared/snake/streams.ts";
import { startNatsServer } from "../test/helpers/nats-server.ts";
import { startBin } from "../test/helpers/run-bin.ts";
import { busEnv, fluxrigCli, startTestMixer, type TestMixer } from "../test/helpers/test-mixer.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    rate: { type: "string", default: "10000" },
    "idle-seconds": { type: "string", default: "20" },
    "spool-records": { type: "string", default: "200000" },
    only: { type: "string" },
    bundle: { type: "string" },
    "baseline-bundle": { type: "string" },
    unit: { type: "string" },
    "baseline-unit": { type: "string" },
    "cpu-profile": { type: "string" },
    help: { type: "boolean" },
  },
});
if (args.help) {
  // The comment at the top of this file.
  const text = await readFile(new URL(import.meta.url), "utf8");
  console.log((/\/\*\*\n([\s\S]*?)\*\//.exec(text)?.[1] ?? "").replace(/^ \*( |$)/gm, ""));
  process.exit(0);
}
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const IDLE_SECONDS = Number(args["idle-seconds"]);
const SPOOL_RECORDS = Number(args["spool-records"]);
const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

interface Footprint {
  rssMaxMiB: number;
  rssMeanMiB: number;
  /** VmHWM: the most the process ever held resident, up to the end of this measure. */
  rssPeakMiB: number;
  cpuPercentOfOneCore: number;
}

/** RSS and CPU of `pid` over `seconds`, from /proc. */
async function measure(pid: number, seconds: number): Promise<Footprint> {
  const cpu = async () => {
    const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  };
  const status = async (field: "VmRSS" | "VmHWM") =>
    Number(new RegExp(`${field}:\\s+(\\d+)`).exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;
  const startCpu = await cpu();
  const started = performance.now();
  const samples: number[] = [];
  while (performance.now() - started < seconds * 1_000) {
    samples.push(await status("VmRSS"));
    await sleep(500);
  }
  const elapsed = (performance.now() - started) / 1_000;
  return {
    rssMaxMiB: Math.max(...samples),
    rssMeanMiB: samples.reduce((a, b) => a + b, 0) / samples.length,
    rssPeakMiB: await status("VmHWM"),
    cpuPercentOfOneCore: (((await cpu()) - startCpu) / TICKS_PER_SECOND / elapsed) * 100,
  };
}

const fmt = (f: Footprint) =>
  `RSS max ${f.rssMaxMiB.toFixed(1)} MiB (mean ${f.rssMeanMiB.toFixed(1)}, peak since start ${f.rssPeakMiB.toFixed(1)}), CPU ${f.cpuPercentOfOneCore.toFixed(1)}% of one core`;

async function agentFootprint(dir: string): Promise<void> {
  const bundle = args.bundle ? resolve(args.bundle) : join(dir, "fluxrig.mjs");
  const bytes = args.bundle ? (await stat(bundle)).size : (await buildRackBundle(bundle)).bytes;
  console.log(`bundle: ${(bytes / 2 ** 20).toFixed(2)} MiB (${bundle})`);
  const bare = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  const node = await measure(bare.pid as number, Math.min(IDLE_SECONDS, 10)).finally(() => bare.kill());
  console.log(`plain node, idle (baseline): ${fmt(node)}`);
  // The local mixer's start is the slow part on a loaded machine (its 90 s default wait was missed at load 20).
  const mixer = await startTestMixer({
    env: { FLUXRIG_ENROLLMENT_AUTO_ADOPT: "true", FLUXRIG_MIXER_SCENARIO_WAIT_TIMEOUT: "60s" },
    readyTimeoutMs: 300_000,
  });
  try {
    const base = args["baseline-bundle"]
      ? await rackFootprint(
          mixer,
          resolve(args["baseline-bundle"]),
          await serviceUnit(args["baseline-unit"]),
          "rack-bench-base",
          dir,
        )
      : undefined;
    const rack = await rackFootprint(mixer, bundle, await serviceUnit(args.unit), "rack-bench-01", dir);
    console.log(
      `agent idle, ${IDLE_SECONDS} s: ${fmt(rack.idle)}; ${(rack.idle.rssMaxMiB / node.rssMaxMiB).toFixed(2)}x ` +
        `plain node's RSS (+${(rack.idle.rssMaxMiB - node.rssMaxMiB).toFixed(1)} MiB); target <= 60 MiB: ${rack.idle.rssMaxMiB <= 60 ? "met" : "MISSED"}`,
    );
    console.log(
      `agent at ${RATE} records/s (kept ${Math.round(rack.kept)}/s acknowledged), ${SECONDS} s: ${fmt(rack.load)}`,
    );
    console.log(
      `  vs idle: RSS ${(rack.load.rssMaxMiB / rack.idle.rssMaxMiB).toFixed(2)}x, CPU +${(rack.load.cpuPercentOfOneCore - rack.idle.cpuPercentOfOneCore).toFixed(1)} points; ` +
        `targets <= 60 MiB: ${rack.load.rssMaxMiB <= 60 ? "met" : "MISSED"}, <= 10%: ${rack.load.cpuPercentOfOneCore <= 10 ? "met" : "MISSED"}`,
    );
    if (base) {
      const vs = (a: Footprint, b: Footprint) =>
        `RSS ${(a.rssMaxMiB / b.rssMaxMiB).toFixed(2)}x (${(a.rssMaxMiB - b.rssMaxMiB).toFixed(1)} MiB), CPU ${(a.cpuPercentOfOneCore / b.cpuPercentOfOneCore).toFixed(2)}x`;
      console.log(`baseline bundle (${args["baseline-bundle"]}): idle ${fmt(base.idle)}`);
      console.log(`  at ${RATE} records/s (kept ${Math.round(base.kept)}/s acknowledged): ${fmt(base.load)}`);
      console.log(
        `this bundle vs the baseline bundle: idle ${vs(rack.idle, base.idle)}; at ${RATE} records/s ${vs(rack.load, base.load)}`,
      );
    }
  } finally {
    await mixer.dispose();
  }
}

/**
 * One bundle run as `unit` starts the agent, enrolled as `name`: idle, then
 * under a generator scenario of its own.
 */
async function rackFootprint(
  mixer: TestMixer,
  bundle: string,
  unit: ServiceUnit,
  name: string,
  dir: string,
): Promise<{ idle: Footprint; load: Footprint; kept: number }> {
  const stateDir = join(dir, `state-${name}`);
  const profile = args["cpu-profile"] ? resolve(args["cpu-profile"], `${name}.cpuprofile`) : undefined;
  const rack = startBin("fluxrig", ["run"], {
    script: bundle,
    nodeArgs: [...unit.nodeFlags, ...(profile ? [CPU_PROFILE_IMPORT] : [])],
    cwd: dir,
    env: {
      ...unit.env,
      ...(profile ? { BENCH_CPU_PROFILE: profile } : {}),
      FLUXRIG_BASE_NAME: name,
      FLUXRIG_BASE_STATE_DIR: stateDir,
      FLUXRIG_SNAKE_URL: mixer.natsUrl,
      FLUXRIG_RACK_BOOTSTRAP_TOKEN: mixer.bootstrapToken,
      ...busEnv(mixer),
    },
  });
  try {
    console.log(
      `${name}: ${Object.entries(unit.env)
        .map(([key, value]) => `${key}=${value} `)
        .join("")}node ${unit.nodeFlags.join(" ")} ${bundle} run`,
    );
    await rack.waitFor(/connected to nats:/, { timeoutMs: 120_000 });
    await sleep(5_000); // start-up settles (the first heartbeat, telemetry's first batches)
    const idle = await measure(rack.pid, IDLE_SECONDS);
    console.log(`${name} idle, ${IDLE_SECONDS} s: ${fmt(idle)}`);

    const scenario = join(dir, `load-${name}.yaml`);
    await writeFile(
      scenario,
      `meta: {name: load-${name}, version: "1"}
racks:
  edge: { name: ${name} }
gears:
  load: { type: generator, config: { rate: ${RATE}, type: load } }
wires: []
`,
    );
    for (const step of [
      ["scenario", "import", scenario],
      ["scenario", "activate", `load-${name}`, "--wait"],
    ]) {
      const done = await fluxrigCli(mixer, step, 120_000);
      if (done.code !== 0) throw new Error(`fluxrig ${step.join(" ")}: ${done.stderr}`);
    }
    await sleep(3_000);
    const sentBefore = await recordsSent(stateDir);
    const load = await measure(rack.pid, SECONDS);
    // The status file is rewritten every 5 s: the rate is over about the same window.
    const kept = ((await recordsSent(stateDir)) - sentBefore) / SECONDS;
    console.log(`${name} at ${RATE} records/s, ${SECONDS} s: ${fmt(load)}`);
    return { idle, load, kept };
  } finally {
    await rack.stop("SIGTERM");
  }
}

/**
 * `--cpu-profile`: a module the profiled agent imports first, which starts V8's sampling profiler and writes the
 * profile when the process exits (the agent exits on SIGTERM once drained; node's --cpu-prof writes none when
 * the process is stopped before it exits on its own).
 */
const CPU_PROFILE_IMPORT = `--import=data:text/javascript,${encodeURIComponent(`
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
const session = new Session();
session.connect();
session.post("Profiler.enable");
session.post("Profiler.setSamplingInterval", { interval: 500 });
session.post("Profiler.start");
process.on("exit", () => session.post("Profiler.stop", (error, result) => {
  if (!error) writeFileSync(process.env.BENCH_CPU_PROFILE, JSON.stringify(result.profile));
}));
`)}`;

interface ServiceUnit {
  /** Node's flags in its ExecStart. */
  nodeFlags: string[];
  /** Its Environment= variables but the FLUXRIG_* ones (the bench sets its own config). */
  env: Record<string, string>;
}

/** How the service unit (packaging/'s unless `path`) starts the agent, so the bench runs it the same way. */
async function serviceUnit(path?: string): Promise<ServiceUnit> {
  const unit = await readFile(path ?? new URL("../packaging/fluxrig-rack.service", import.meta.url), "utf8");
  const flags = /^ExecStart=\S*node((?: --\S+)*) /m.exec(unit)?.[1];
  if (flags === undefined)
    throw new Error(`${path ?? "packaging/fluxrig-rack.service"}: no ExecStart=…node [--flags] …`);
  const env = Object.fromEntries(
    [...unit.matchAll(/^Environment=(\w+)=(.*)$/gm)]
      .filter(([, name]) => !name?.startsWith("FLUXRIG_"))
      .map(([, name, value]) => [name, value]),
  );
  return { nodeFlags: flags.trim().split(/\s+/).filter(Boolean), env };
}

/** Telemetry records JetStream acknowledged, as the agent's status file last said. */
async function recordsSent(stateDir: string): Promise<number> {
  const status = JSON.parse(await readFile(join(stateDir, "status.json"), "utf8")) as {
    spool: { telemetry: { records_sent: number } | null };
  };
  return status.spool.telemetry?.records_sent ?? 0;
}

async function spoolRates(dir: string): Promise<void> {
  const server = await startNatsServer();
  const nc = await connectSnake(
    loadConfig(rackConfigSchema, {
      env: { FLUXRIG_SNAKE_URL: server.url, FLUXRIG_SNAKE_RECONNECT_WAIT: "100ms" },
    }).config.snake,
  );
  try {
    // File-backed streams, so they are still there when the server comes back.
    const streams = loadConfig(mixerConfigSchema, { env: { FLUXRIG_SNAKE_DURABLE: "true" } }).config.snake;
    await ensureStreams(await jetstreamManager(nc, { domain: "flux" }), streams);
    const open = (name: string) =>
      createTelemetry({
        nc,
        domain: "flux",
        entity: { id: "0190a4c2-7d3e-7b1a-8c4d-2e5f6a7b8c9d", name: "rack-bench-01" },
        maxPayloadSize: 2 * 2 ** 20,
        samplingRate: 1,
        enabled: true,
        stateDir: join(dir, name),
        retryIntervalMs: 100,
        selfMetricsIntervalMs: 3_600_000,
        warn: () => undefined,
      });
    const emit = async (telemetry: Awaited<ReturnType<typeof open>>) => {
      const started = performance.now();
      for (let i = 0; i < SPOOL_RECORDS; i++) await telemetry.log("info", `spool bench ${i}`, { i });
      await telemetry.flush();
      return (performance.now() - started) / 1_000;
    };

    const online = await open("online");
    const baseline = await emit(online);
    await online.close();
    console.log(`publish with the bus up (baseline): ${Math.round(SPOOL_RECORDS / baseline)} records/s`);

    const spooling = await open("spooled");
    await server.stop({ keepStore: true });
    const written = await emit(spooling);
    const { spool } = spooling.stats();
    console.log(
      `spool write (bus down): ${Math.round(SPOOL_RECORDS / written)} records/s, ${(spool.bytes / 2 ** 20 / written).toFixed(1)} MiB/s ` +
        `(${spool.batches} batches fsynced, ${(spool.bytes / 2 ** 20).toFixed(1)} MiB): ${(baseline / written).toFixed(2)}x the baseline's rate`,
    );
    const back = await startNatsServer({ reuse: server });
    const replayStarted = performance.now();
    while (spooling.stats().spool.batches > 0) await sleep(20);
    const replayed = (performance.now() - replayStarted) / 1_000;
    console.log(
      `spool replay (bus back): ${Math.round(SPOOL_RECORDS / replayed)} records/s (${replayed.toFixed(2)} s, including the reconnect): ` +
        `${(baseline / replayed).toFixed(2)}x the baseline's rate`,
    );
    await spooling.close();
    await back.stop();
  } finally {
    await nc.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), "fluxrig-bench-rack-"));
try {
  if (args.only !== "agent") await spoolRates(dir);
  if (args.only !== "spool") await agentFootprint(dir);
} finally {
  await rm(dir, { recursive: true, force: true });
}
