import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Metafile } from "esbuild";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildRackBundle } from "../scripts/build-rack.ts";
import { type RunningBin, runBin, startBin } from "./helpers/run-bin.ts";
import {
  busEnv,
  eventually,
  fluxrigCli,
  MIXER_START_MS,
  startTestMixer,
  type TestMixer,
} from "./helpers/test-mixer.ts";

/**
 * The rack as an operator installs it: one bundled file run by plain `node` from a directory without
 * node_modules, enrolling with a real mixer, answering `fluxrig status` from its state dir, reloading its config
 * on SIGHUP and flushing what it said on SIGTERM.
 */
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const RACK = "rack-bundle-01";
const run = promisify(execFile);

let dir: string;
let app: string;
let bundle: string;
let metafile: Metafile;
let bundleBytes: number;
let mixer: TestMixer;
let rack: RunningBin | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-bundle-"));
  ({ metafile, bytes: bundleBytes } = await buildRackBundle(join(dir, "build", "fluxrig.mjs")));
  // The install: the bundle and a config file, nothing else.
  app = join(dir, "app");
  await mkdir(app);
  bundle = join(app, "fluxrig.mjs");
  await copyFile(join(dir, "build", "fluxrig.mjs"), bundle);
  await copyFile(join(dir, "build", "fluxrig.mjs.map"), `${bundle}.map`);
  mixer = await startTestMixer({
    env: { FLUXRIG_ENROLLMENT_AUTO_ADOPT: "true", FLUXRIG_INGEST_FLUSH_INTERVAL: "1s" },
  });
}, MIXER_START_MS + 30_000);

afterAll(async () => {
  await rack?.stop("SIGKILL");
  await mixer?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const config = (logging: string, reconnectWait: string) => `[base]
name = "${RACK}"
state_dir = "${join(dir, "state")}"

[logging]
${logging}

[snake]
url = "${mixer.natsUrl}"
reconnect_wait = "${reconnectWait}"

[rack]
heartbeat_interval = "2s"
`;

/** The bundle run with plain node in the install directory, its config there, the secret in the environment. */
const bundled = (args: string[]) =>
  runBin("fluxrig", args, { script: bundle, cwd: app, env: { FLUXRIG_CONFIG: join(app, "fluxrig.toml") } });

it("the bundle holds the rack only: no mixer code, no duckdb, no TypeScript tooling", () => {
  const inputs = Object.keys(metafile.inputs);
  expect(inputs.some((path) => path.includes("rack-agent/src/cli/main.ts"))).toBe(true);
  expect(
    inputs.filter((path) => path.startsWith("mixer-worker/") || path.includes("/mixer-worker/")),
  ).toEqual([]);
  expect(
    inputs.filter((path) => /duckdb|hono|wrangler|typescript|\/tsx\/|esbuild|vitest/.test(path)),
  ).toEqual([]);
  // `import * as z from "zod"` lets esbuild take only the members used; `import { z }` took all of zod (its
  // locales, JSON Schema, codecs: about 350 KB more, and MiB of RSS to evaluate them at start).
  const [, output] = Object.entries(metafile.outputs).find(([path]) => path.endsWith(".mjs")) ?? [];
  const zodLocales = Object.entries(output?.inputs ?? {})
    .filter(([path, input]) => /\/zod\/.*\/locales\//.test(path) && input.bytesInOutput > 0)
    .map(([path]) => path.replace(/.*\/locales\//, ""));
  expect(zodLocales).toEqual(["en.js"]);
  console.log(`bundle: ${(bundleBytes / 2 ** 20).toFixed(2)} MiB from ${inputs.length} inputs`);
});

it("the bundle's stack traces name the TypeScript sources, through the source map beside it", async () => {
  // Where the bundle's "passport: rack … is active" line came from, asked through node's own reader of the map
  // (the bundle maps its stacks through the same map, bundle-stack-traces.ts): the minified bundle keeps no
  // function names, its map gives file and line.
  const text = await readFile(bundle, "utf8");
  const before = text.slice(0, text.indexOf("passport: rack ")).split("\n");
  const [line, column] = [before.length - 1, (before.at(-1) ?? "").length];
  const where = join(dir, "where.mjs");
  await writeFile(
    where,
    `import { findSourceMap } from "node:module";
process.on("exit", () => console.log(JSON.stringify(findSourceMap(process.argv[1])?.findEntry(${line}, ${column}) ?? null)));
`,
  );
  const { stdout } = await run(
    process.execPath,
    ["--enable-source-maps", "--import", where, bundle, "--version"],
    {
      cwd: app,
    },
  );
  const entry = JSON.parse(stdout.trim().split("\n").at(-1) ?? "null") as { originalSource: string } | null;
  expect(entry?.originalSource).toMatch(/rack-agent\/src\/agent\/rack-agent\.ts$/);
});

it("npm pack makes a package that installs without a registry and whose fluxrig bin is the bundle", async () => {
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], {
    cwd: ROOT,
    maxBuffer: 16 * 2 ** 20,
  });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf("["))) as {
    filename: string;
    files: { path: string }[];
  }[];
  const files = packed?.files.map((f) => f.path) ?? [];
  expect(files).toContain("dist/fluxrig.mjs");
  expect(files.filter((path) => /\.ts$|^(rack-agent|mixer-worker|shared)\//.test(path))).toEqual([]);

  // No dependencies to fetch: everything the rack runs is inside the bundle.
  const install = join(dir, "install");
  await mkdir(install);
  await writeFile(join(install, "package.json"), '{"name":"rack-host","private":true}\n');
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", join(dir, packed?.filename ?? "")], {
    cwd: install,
  });
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
  const version = await run(join(install, "node_modules", ".bin", "fluxrig"), ["--version"], {
    cwd: install,
  });
  expect(version.stdout.trim()).toBe(pkg.version);
}, 180_000);

it("starts and enrolls with plain node, shows itself in fluxrig status, reloads on SIGHUP, flushes on SIGTERM", async () => {
  await writeFile(
    join(app, "fluxrig.toml"),
    config('level = "info"\n[logging.throttling]\nrate = 1000.0\nburst = 50', "500ms"),
  );
  rack = startBin("fluxrig", ["run"], {
    script: bundle,
    cwd: app,
    env: { FLUXRIG_RACK_BOOTSTRAP_TOKEN: mixer.bootstrapToken, ...busEnv(mixer) },
  });
  try {
    await rack.waitFor(/passport: rack \S+ is active/);
    await rack.waitFor(/connected to nats:/);

    // Status from the state dir, with its own numbers: identity, enrollment, bus, spool and its bound.
    const status = await eventually("a status with the bus connected", async () => {
      const answer = await bundled(["status", "-o", "json"]);
      if (answer.code !== 0) throw new Error(answer.stderr);
      const local = JSON.parse(answer.stdout) as {
        agent: string;
        status: { rack: { name: string; enrollment: string }; bus: { connected: boolean } };
        spool_on_disk: { telemetry: { batches: number } };
      };
      return local.status.bus.connected ? local : undefined;
    });
    expect(status).toMatchObject({
      agent: "running",
      stale: false,
      status: { rack: { name: RACK, enrollment: "active" }, spool: { max_bytes: 512 * 2 ** 20 } },
      spool_on_disk: { telemetry: { batches: 0 } },
    });
    const table = await bundled(["status"]);
    expect(table.stdout).toMatch(/^enrollment\s+active/m);
    expect(table.stdout).toMatch(/^bus\s+connected to nats:/m);

    // A flow whose lines are debug: hidden at level info.
    const scenario = join(dir, "chatty.yaml");
    await writeFile(
      scenario,
      `meta: {name: chatty, version: "1"}
racks:
  edge: { name: ${RACK} }
gears:
  gen: { type: generator, config: { rate: 50, type: chat } }
  sink: { type: log-sink, config: { level: debug, data: false } }
wires:
  - { from: gen.out, to: sink.in }
`,
    );
    expect((await fluxrigCli(mixer, ["scenario", "import", scenario])).code).toBe(0);
    const activated = await fluxrigCli(mixer, ["scenario", "activate", "chatty", "--wait"]);
    expect(activated.code, activated.stderr).toBe(0);
    // The agent rewrites status.json every 5 s: the scenario shows there within one rewrite of converging.
    await eventually(
      "fluxrig status to show the scenario running",
      async () =>
        /^scenario\s+chatty \(\w+\) running/m.test((await bundled(["status"])).stdout) ? true : undefined,
      15_000,
    );
    expect(rack.output).not.toMatch(/debug .*chat /);

    // SIGHUP: the level and the throttling change live, the bus's retry wait needs a restart and says so.
    await writeFile(
      join(app, "fluxrig.toml"),
      config('level = "debug"\n[logging.throttling]\nrate = 5.0\nburst = 5', "700ms"),
    );
    const since = rack.output.length;
    process.kill(rack.pid, "SIGHUP");
    await rack.waitFor(
      /info config reloaded: applied logging\.level \("info" → "debug"\), logging\.throttling\.rate \(1000 → 5\), logging\.throttling\.burst \(50 → 5\)/,
      { since },
    );
    await rack.waitFor(
      /warn config reloaded: needs a restart to apply: snake\.reconnect_wait \("500ms" → "700ms"\)/,
      {
        since,
      },
    );
    await rack.waitFor(/debug \S+\/sink: chat /, { since });
    await rack.waitFor(/log line\(s\) dropped by logging\.throttling \(rate 5\/s, burst 5\)/, { since });

    // SIGTERM: the last line said before it is stored (flushed, not left in a batch), and the exit is 0.
    const stopping = rack.output.length;
    const code = await rack.stop("SIGTERM");
    const said = rack.output.slice(0, stopping).match(/debug \S+\/sink: chat ([0-9a-f-]{36})/g) ?? [];
    const last = said.at(-1)?.split(" ").at(-1) as string;
    expect(rack.output.slice(stopping)).toMatch(/SIGTERM: stopping/);
    expect(code).toBe(0);
    rack = undefined;
    await eventually("the last line before SIGTERM in the logs table", async () => {
      const found = await fluxrigCli(mixer, [
        "logs",
        "--entity",
        RACK,
        "-q",
        last,
        "--min-level",
        "debug",
        "-o",
        "json",
      ]);
      return (JSON.parse(found.stdout) as { logs: unknown[] }).logs.length === 1 ? true : undefined;
    });
    const after = await bundled(["status", "-o", "json"]);
    expect(JSON.parse(after.stdout)).toMatchObject({ agent: "stopped" });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- rack ---\n${rack?.output.slice(-6_000) ?? ""}`);
  }
}, 180_000);
