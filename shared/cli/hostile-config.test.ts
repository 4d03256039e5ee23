import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBin } from "../../test/helpers/run-bin.ts";
import type { ConfigFiles, ConfigSpec } from "../config/config-file.ts";
import { envVarName } from "../config/env-map.ts";
import { type ConfigLeaf, configLeaves } from "../config/schema-walk.ts";
import { mixerConfigSpec, rackConfigSpec } from "../config/specs.ts";
import { seededRandom } from "../random/seeded-random.ts";
import { COMMON_CONFIG_FLAGS, type ConfigFlag } from "./config-flags.ts";
import { configureProgram } from "./configured-program.ts";
import { runCli } from "./run-cli.ts";

/**
 * Property-style: hundreds of generated bad config files and environments, each of which must be refused as a
 * configuration error (exit 2) with every bad key named where it came from, no stack trace, no control
 * character and no secret. A seeded generator makes every run the same; CONFIG_FUZZ_SEED tries another.
 */
const SEED = Number(process.env.CONFIG_FUZZ_SEED ?? 20_261_127);
const CASES_PER_BINARY = 200;
const SECRET = "S3CR3T-5ad0b1";
/** Variables a file refers to; most not named like credentials, which must not matter. */
const VARIABLES = ["DB_PASSWORD", "X", "NATS_CREDS", "HONEYCOMB", "PORT_FROM_VAULT", "TENANT"];

/** A bad value for one kind of key: its TOML literal and its env/flag text (null where it cannot be written so). */
type BadValue = [toml: string | null, text: string | null];

const STRING_BAD: BadValue[] = [
  ['"a\\u0000b"', null],
  ['"\\u001b[31mred"', "\u001b[31mred"],
  [`"${"x".repeat(5_000)}"`, "x".repeat(5_000)],
  ["5", null],
];
const BAD: Record<ConfigLeaf["kind"], BadValue[]> = {
  string: STRING_BAD,
  int: [
    ['"many"', "many"],
    ["6.5", "6.5"],
    ["-1", "-1"],
    ["1000000000000", "1000000000000"],
    ["inf", null],
    ["nan", null],
    ["true", "true"],
  ],
  number: [
    ['"x"', "x"],
    ["-1", "-1"],
    ["1e12", "1e12"],
    ["inf", "Infinity"],
    ["nan", "NaN"],
  ],
  boolean: [
    ['"yes"', "maybe"],
    ["2", "2"],
    ["{}", null],
  ],
  duration: [
    ['"30 seconds"', "30 seconds"],
    ['"1e20h"', "1e20h"],
    ['"100000000000000000000h"', "100000000000000000000h"],
    ['"9999999h"', "9999999h"],
    ['"-5s"', "-5s"],
    ["10", "10"],
  ],
  size: [
    ['"2 lightyears"', "2 lightyears"],
    ["1.5", "1.5"],
    ["-1", "-1"],
    ['"100GiB"', "100GiB"],
    [`"${"9".repeat(400)}GiB"`, null],
  ],
  enum: [
    ['"loud"', "loud"],
    ['""', ""],
    ["5", null],
  ],
  url: [
    ['"not a url"', "not a url"],
    ['"file:///etc/passwd"', "file:///etc/passwd"],
    ['"javascript:alert(1)"', "javascript:alert(1)"],
    ['"ftp://x"', "ftp://x"],
    [`"ftp://user:${SECRET}@x"`, `ftp://user:${SECRET}@x`],
    [`"http://u:${SECRET}@h:99999/?token=${SECRET}"`, `http://u:${SECRET}@h:99999/?token=${SECRET}`],
    [`"wss://u:${SECRET}@h/?jwt=${SECRET} x"`, `wss://u:${SECRET}@h/?jwt=${SECRET} x`],
    ['"nats://a:4222,nats://b:4222"', "nats://a:4222,nats://b:4222"],
    ["5", null],
  ],
  list: [
    ['[">"]', ">"],
    ['["*.>"]', "*.>"],
    ['["flux.ctl.>"]', "flux.ctl.>"],
    ['["flux.msg.>", "a b"]', '["flux.msg.>","a b"]'],
    ['["a..b"]', "a..b"],
    ["[]", "[]"],
    ["[1]", "[1]"],
    ['"flux.>"', "flux.>"],
  ],
  map: [
    ['{ "bad key" = "v" }', '{"bad key":"v"}'],
    ['"x"', "novalue"],
    ["{ k = 5 }", '{"k":5}'],
  ],
};
/** Appended to the secret so that, read through `${VAR}`, it is a bad value of that kind. */
const SECRET_SUFFIX: Partial<Record<ConfigLeaf["kind"], string>> = {
  string: "\u0007",
  list: " x",
  map: "\u0007",
};

type Placement =
  | { kind: "file"; line: number }
  | { kind: "env"; name: string }
  | { kind: "flag"; flag: string };
interface BadItem {
  key: string;
  placement: Placement;
  /** What the refusal must say besides the key and the source. */
  says?: string;
}
interface Case {
  binary: "fluxrig" | "fluxrig-mixer";
  toml: string;
  env: Record<string, string>;
  flags: string[];
  bad: BadItem[];
  viaEnvVar: boolean;
}

/** A flag for every key, so the flag layer is exercised for every kind (the binaries have only a few). */
function flagTable(leaves: ConfigLeaf[]): ConfigFlag[] {
  const common = new Set(COMMON_CONFIG_FLAGS.map((f) => f.key));
  return [
    ...COMMON_CONFIG_FLAGS,
    ...leaves
      .filter((leaf) => !leaf.secret && !common.has(leaf.key))
      .map((leaf) => ({
        syntax: `--set-${leaf.key.replace(/[._]/g, "-")} <value>`,
        key: leaf.key,
        description: "",
      })),
  ];
}

/** Settings that are fine, to move the bad ones around the file. */
const GOOD: Record<Case["binary"], [string, string][]> = {
  fluxrig: [
    ["rack.max_hops", "12"],
    ["base.state_dir", '"/tmp/rack"'],
    ["logging.max_backups", "3"],
    ["snake.connect_timeout", '"5s"'],
    ["observability.sampling_rate", "0.5"],
    ["rack.labels", '{ site = "nyc" }'],
  ],
  "fluxrig-mixer": [
    ["api.port", "8091"],
    ["ingest.buffer_size", "512"],
    ["snake.stream_name", '"biz"'],
    ["observability.otlp.endpoint", '"127.0.0.1:4317"'],
    ["store.wal_max_size_mb", "100"],
    ["observability.embedded.rotation.max_age_days", "90"],
  ],
};

function generateCase(
  random: () => number,
  binary: Case["binary"],
  leaves: ConfigLeaf[],
  flags: ConfigFlag[],
): Case {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const shuffled = [...leaves].sort(() => random() - 0.5);
  const chosen = shuffled.slice(0, 1 + Math.floor(random() * 3));
  const fileLines = new Map<string, [string, string][]>();
  const addToFile = (key: string, literal: string) => {
    const table = key.slice(0, key.lastIndexOf("."));
    fileLines.set(table, [...(fileLines.get(table) ?? []), [key.slice(table.length + 1), literal]]);
  };
  const env: Record<string, string> = {};
  const argv: string[] = [];
  const bad: { item: Omit<BadItem, "placement">; where: "file" | "env" | "flag"; flag?: string }[] = [];

  for (const leaf of chosen) {
    if (leaf.secret) {
      // A literal secret in TOML is refused without being echoed.
      addToFile(leaf.key, `"${SECRET}"`);
      bad.push({
        item: { key: leaf.key, says: "is a secret and must not be stored in a TOML file" },
        where: "file",
      });
      continue;
    }
    const roll = random();
    if (roll < 0.25) {
      const name = `${pick(VARIABLES)}_${bad.length}`; // one variable per item: each holds its own bad value
      env[name] = SECRET + (SECRET_SUFFIX[leaf.kind] ?? "");
      const literal =
        leaf.kind === "list"
          ? `["\${${name}}"]`
          : leaf.kind === "map"
            ? `{ x-a = "\${${name}}" }`
            : `"\${${name}}"`;
      addToFile(leaf.key, literal);
      bad.push({ item: { key: leaf.key, says: `\${${name}}` }, where: "file" });
      continue;
    }
    const [toml, text] = pick(BAD[leaf.kind]);
    const where = text === null || (roll < 0.6 && toml !== null) ? "file" : roll < 0.8 ? "env" : "flag";
    if (where === "file" && toml !== null) {
      addToFile(leaf.key, toml);
      bad.push({ item: { key: leaf.key }, where });
    } else if (where === "env" && text !== null) {
      env[envVarName(leaf.key)] = text;
      bad.push({ item: { key: leaf.key }, where });
    } else if (text !== null) {
      const flag = flags.find((f) => f.key === leaf.key) as ConfigFlag;
      const name = flag.syntax.split(" ")[0] as string;
      argv.push(`${name}=${text}`);
      bad.push({ item: { key: leaf.key }, where: "flag", flag: name });
    }
  }
  if (random() < 0.3) {
    // A misspelt key is refused too, with its name.
    const leaf = pick(leaves);
    const key = `${leaf.key}x`;
    addToFile(key, "1");
    bad.push({ item: { key }, where: "file" });
  }
  const taken = new Set(chosen.map((leaf) => leaf.key));
  for (const [key, literal] of GOOD[binary]) if (!taken.has(key) && random() < 0.4) addToFile(key, literal);
  if (random() < 0.2) env.FLUXRIG_RACK_MAX_HOP = "3"; // a warning, not a problem

  // Lay the file out table by table, recording the line each bad key lands on.
  const lines: string[] = [];
  const lineOf = new Map<string, number>();
  for (const [table, pairs] of fileLines) {
    if (lines.length) lines.push("");
    lines.push(`[${table}]`);
    for (const [name, literal] of pairs) {
      lines.push(`${name} = ${literal}`);
      lineOf.set(`${table}.${name}`, lines.length);
    }
  }
  return {
    binary,
    toml: `${lines.join("\n")}\n`,
    env,
    flags: argv,
    viaEnvVar: random() < 0.5,
    bad: bad.map(({ item, where, flag }) => ({
      ...item,
      placement:
        where === "file"
          ? { kind: "file", line: lineOf.get(item.key) as number }
          : where === "env"
            ? { kind: "env", name: envVarName(item.key) }
            : { kind: "flag", flag: flag as string },
    })),
  };
}

const SPECS: Record<
  Case["binary"],
  ConfigSpec<typeof rackConfigSpec.schema | typeof mixerConfigSpec.schema>
> = {
  fluxrig: rackConfigSpec,
  "fluxrig-mixer": mixerConfigSpec,
};

function generateCases(): Case[] {
  const random = seededRandom(SEED);
  const cases: Case[] = [];
  for (const binary of ["fluxrig", "fluxrig-mixer"] as const) {
    const leaves = configLeaves(SPECS[binary].schema);
    const flags = flagTable(leaves);
    for (let i = 0; i < CASES_PER_BINARY; i++) cases.push(generateCase(random, binary, leaves, flags));
  }
  return cases;
}

/** Where a case's config file is, and how the command names it. */
function configArgs(c: Case, path: string): { argv: string[]; env: Record<string, string> } {
  return c.viaEnvVar
    ? { argv: c.flags, env: { ...c.env, FLUXRIG_CONFIG: path } }
    : { argv: ["--config", path, ...c.flags], env: c.env };
}

/** What every refusal must be, whichever way it was produced. */
function expectRefused(c: Case, path: string, run: { code: number; stdout: string; stderr: string }): void {
  const context = `seed ${SEED}, case:\n${JSON.stringify(c, null, 1).slice(0, 2_000)}\n\nstderr:\n${run.stderr}`;
  expect(run.code, context).toBe(2);
  expect(run.stdout, context).toBe("");
  expect(run.stderr, context).toMatch(
    new RegExp(`^${c.binary}: invalid configuration \\(\\d+ problems?\\):\\n`),
  );
  for (const item of c.bad) {
    const where =
      item.placement.kind === "file"
        ? `${path}:${item.placement.line}: `
        : item.placement.kind === "env"
          ? `env ${item.placement.name}: `
          : `flag ${item.placement.flag}: `;
    const line = run.stderr.split("\n").find((l) => l.startsWith(`  - ${where}`) && l.includes(item.key));
    expect(line, `${item.key} at ${where}\n${context}`).toBeDefined();
    if (item.says) expect(line, context).toContain(item.says);
  }
  expect(run.stderr, context).not.toMatch(/^\s+at /m);
  expect(run.stderr, context).not.toMatch(/(?!\n)\p{Cc}/u);
  expect(run.stdout + run.stderr, context).not.toContain(SECRET);
}

const files: ConfigFiles = { stat, readText: (path) => readFile(path, "utf8") };

/** The binary's CLI in-process: the same program setup, loader and error-to-exit-code path, minus Node's startup. */
async function runInProcess(
  binary: Case["binary"],
  argv: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  let code = 0;
  const program = new Command(binary);
  configureProgram(program, {
    spec: SPECS[binary],
    flags: flagTable(configLeaves(SPECS[binary].schema)),
    version: "0.0.0",
    io: {
      out: (text) => {
        stdout += text;
      },
      err: (text) => {
        stderr += text;
      },
      env,
    },
    files,
  });
  await runCli(program, ["node", binary, ...argv, "config", "show"], {
    err: (text) => {
      stderr += text;
    },
    exit: (status) => {
      code = status;
    },
  });
  return { code, stdout, stderr };
}

describe("hostile config files and environments", () => {
  const cases = generateCases();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-hostile-"));
    await Promise.all(cases.map((c, i) => writeFile(join(dir, `case-${i}.toml`), c.toml)));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it(`refuses ${cases.length} generated bad configs in-process: exit 2, each key and source named, no secret`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
    for (const [i, c] of cases.entries()) {
      const path = join(dir, `case-${i}.toml`);
      const { argv, env } = configArgs(c, path);
      expectRefused(c, path, await runInProcess(c.binary, argv, env));
    }
  });

  it("refuses some of them through the real binaries the same way", async () => {
    // The binaries know only their own flags; take cases that need none of the generated ones.
    const picks = (["fluxrig", "fluxrig-mixer"] as const).flatMap((binary) =>
      cases
        .map((c, i) => ({ c, i }))
        .filter(({ c }) => c.binary === binary && c.flags.length === 0)
        .slice(0, 2),
    );
    const runs = await Promise.all(
      picks.map(({ c, i }) => {
        const path = join(dir, `case-${i}.toml`);
        const { argv, env } = configArgs(c, path);
        return runBin(c.binary, [...argv, "config", "show"], { cwd: dir, env, timeoutMs: 60_000 });
      }),
    );
    for (const [n, run] of runs.entries()) {
      const { c, i } = picks[n] as (typeof picks)[number];
      expectRefused(c, join(dir, `case-${i}.toml`), run);
    }
  }, 120_000);

  it("refuses --config that is empty, a FIFO, a device or a directory, through the real binaries", async () => {
    const special = join(dir, "special");
    await mkdir(join(special, "a-directory.toml"), { recursive: true });
    execFileSync("mkfifo", [join(special, "fifo.toml")]);
    const runs = await Promise.all([
      runBin("fluxrig", ["--config", "", "config", "show"], { cwd: special, timeoutMs: 60_000 }),
      runBin("fluxrig-mixer", ["--config", "fifo.toml", "config", "show"], {
        cwd: special,
        timeoutMs: 60_000,
      }),
      runBin("fluxrig", ["config", "show"], {
        cwd: special,
        env: { FLUXRIG_CONFIG: "/dev/urandom" },
        timeoutMs: 60_000,
      }),
      runBin("fluxrig-mixer", ["-c", "a-directory.toml", "config", "show"], {
        cwd: special,
        timeoutMs: 60_000,
      }),
    ]);
    const said = [
      "fluxrig: invalid configuration (1 problem):\n  - --config is empty: name a TOML file, or leave --config out to read ./fluxrig.toml\n",
      "fluxrig-mixer: invalid configuration (1 problem):\n  - --config names fifo.toml, which is not a regular file (a device, pipe or socket): name a TOML file\n",
      "fluxrig: invalid configuration (1 problem):\n  - FLUXRIG_CONFIG names /dev/urandom, which is not a regular file (a device, pipe or socket): name a TOML file\n",
      "fluxrig-mixer: invalid configuration (1 problem):\n  - --config names a-directory.toml, which is a directory: name a TOML file\n",
    ];
    for (const [n, run] of runs.entries()) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toBe(said[n]);
    }
  }, 120_000);
});
