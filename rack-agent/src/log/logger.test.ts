import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import { describe, expect, it, onTestFinished } from "vitest";
import { loadConfig, rackConfigSchema } from "../../../shared/config/index.ts";
import { recordingTelemetry } from "../gears/gear-harness.ts";
import { LogThrottle } from "../gears/log-throttle.ts";
import { createRackLogger, rackLogFile, rackLoggerFromConfig } from "./index.ts";

async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), "fluxrig-log-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every line of the live file and its rotated copies (gunzipped), oldest file first. */
async function linesOf(dir: string, name: string) {
  const names = (await readdir(dir)).filter((n) => n.startsWith(name));
  const backups = names
    .filter((n) => n !== name)
    .sort((a, b) => Number(b.split(".")[2]) - Number(a.split(".")[2]));
  const texts: string[] = [];
  for (const file of [...backups, name]) {
    const bytes = await readFile(join(dir, file));
    texts.push((file.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8"));
  }
  return { names, lines: texts.flatMap((t) => t.split("\n").filter((l) => l !== "")) };
}

describe("the rack log file", () => {
  it.each([true, false])(
    "rotates by size, keeps max_backups (gzip: %s), and splits or loses no line under concurrent writers",
    async (compress) => {
      const dir = await tempDir();
      const path = join(dir, "fluxrig-rack.log");
      const log = createRackLogger({
        level: "info",
        telemetry: false,
        file: { path, maxBytes: 64 * 1024, maxBackups: 3, compress },
      });
      // 8 writers taking turns at every tick, as gears do: ~1.2 MB of lines, so ~19 rotations.
      const WRITERS = 8;
      const EACH = 1_000;
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, writer) => {
          for (let i = 0; i < EACH; i++) {
            log.info(`writer ${writer} line ${i} ${"x".repeat(60)}`, { writer, i });
            if (i % 10 === 0) await setImmediate();
          }
        }),
      );
      await log.close();

      const { names, lines } = await linesOf(dir, "fluxrig-rack.log");
      const suffix = compress ? ".gz" : "";
      expect(names.sort()).toEqual(
        ["fluxrig-rack.log", ...[1, 2, 3].map((n) => `fluxrig-rack.log.${n}${suffix}`)].sort(),
      );
      const records = lines.map((line) => JSON.parse(line) as { writer: number; i: number; msg: string });
      // The kept files hold the newest lines, each whole, none twice, and per writer without a gap.
      for (let writer = 0; writer < WRITERS; writer++) {
        const seen = records.filter((r) => r.writer === writer).map((r) => r.i);
        const from = seen[0] ?? 0;
        expect(seen).toEqual(Array.from({ length: EACH - from }, (_, k) => from + k));
      }
      // Three full backups and the live file: at least three rotation sizes of lines kept.
      expect(lines.reduce((sum, line) => sum + line.length + 1, 0)).toBeGreaterThan(3 * 64 * 1024);
      expect(records[0]).toMatchObject({
        level: "info",
        msg: expect.stringMatching(/^writer \d line \d+ x+$/),
      });
    },
  );

  it("keeps no backup with max_backups = 0", async () => {
    const dir = await tempDir();
    const path = join(dir, "rack.log");
    const log = createRackLogger({
      level: "info",
      telemetry: false,
      file: { path, maxBytes: 4 * 1024, maxBackups: 0, compress: true },
    });
    for (let i = 0; i < 500; i++) log.info(`line ${i}`);
    await log.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await readdir(dir)).toEqual(["rack.log"]);
  });

  it('is <state_dir>/logs/fluxrig-rack.log by default, the path given when set, and none for ""', () => {
    const at = (env: Record<string, string>) =>
      rackLogFile(
        loadConfig(rackConfigSchema, { env: { FLUXRIG_BASE_STATE_DIR: "/var/lib/fluxrig", ...env } }),
      );
    expect(at({})).toBe("/var/lib/fluxrig/logs/fluxrig-rack.log");
    expect(at({ FLUXRIG_LOGGING_FILENAME: "rack.log" })).toBe("/var/lib/fluxrig/rack.log");
    expect(at({ FLUXRIG_LOGGING_FILENAME: "/var/log/fluxrig/rack.log" })).toBe("/var/log/fluxrig/rack.log");
    expect(at({ FLUXRIG_LOGGING_FILENAME: "" })).toBeUndefined();
  });
});

describe("levels", () => {
  const LEVELS = ["trace", "debug", "info", "warn", "error"] as const;

  /** Which levels reach the console, the file and telemetry under this environment and file. */
  async function written(env: Record<string, string>, toml?: string) {
    const dir = await tempDir();
    const loaded = loadConfig(rackConfigSchema, {
      env: { FLUXRIG_BASE_STATE_DIR: dir, ...env },
      ...(toml ? { file: { path: "fluxrig.toml", text: toml } } : {}),
    });
    const console: string[] = [];
    const log = rackLoggerFromConfig(loaded, { write: (t) => void console.push(t), tty: false, env: {} });
    const telemetry = recordingTelemetry();
    log.attach(telemetry);
    for (const level of LEVELS) log[level](`a ${level} line`);
    await log.close();
    const file = (await readFile(rackLogFile(loaded) as string, "utf8")).trim().split("\n");
    return {
      console: console.map((line) => line.split(" ")[1]),
      file: file.map((line) => (JSON.parse(line) as { level: string }).level),
      telemetry: telemetry.logs.map((l) => l.level),
    };
  }

  it("logging.level filters every sink; FLUXRIG_TRACE, FLUXRIG_DEBUG, logging.trace and logging.debug override it", async () => {
    expect(await written({})).toEqual({
      console: ["info", "warn", "error"],
      file: ["info", "warn", "error"],
      telemetry: ["info", "warn", "error"],
    });
    expect((await written({ FLUXRIG_LOGGING_LEVEL: "error" })).console).toEqual(["error"]);
    expect((await written({}, '[logging]\nlevel = "warn"\n')).file).toEqual(["warn", "error"]);
    const trace = await written({ FLUXRIG_LOGGING_LEVEL: "error", FLUXRIG_TRACE: "true" });
    expect(trace.file).toEqual([...LEVELS]);
    // Telemetry has no trace level: trace lines go there as debug.
    expect(trace.telemetry).toEqual(["debug", "debug", "info", "warn", "error"]);
    expect((await written({ FLUXRIG_DEBUG: "1" }, '[logging]\nlevel = "error"\n')).console).toEqual([
      "debug",
      "info",
      "warn",
      "error",
    ]);
    expect((await written({}, "[logging]\ndebug = true\n")).console[0]).toBe("debug");
    expect((await written({}, "[logging]\ntrace = true\ndebug = true\n")).console[0]).toBe("trace");
  });
});

describe("telemetry from the rack's log", () => {
  it("holds early lines with their time until telemetry exists; local lines never go there", async () => {
    const log = createRackLogger({ level: "info", telemetry: true });
    const before = Date.now();
    log.info("starting", { step: 1 });
    log.local.warn("telemetry is failing");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const telemetry = recordingTelemetry();
    const stamped: number[] = [];
    log.attach({
      log: (level, message, attributes, fluxId, ts) => {
        stamped.push(ts ?? 0);
        return telemetry.log(level, message, attributes, fluxId);
      },
    });
    log.child("rack-1/parser", { gear_id: "parser" }).warn("bad frame", { offset: 3 }, "flux-1");
    log.child("rack-1/parser").local.error("not to telemetry either");
    expect(telemetry.logs).toEqual([
      { level: "info", message: "starting", attributes: { step: 1 }, fluxId: null },
      { level: "warn", message: "bad frame", attributes: { gear_id: "parser", offset: 3 }, fluxId: "flux-1" },
    ]);
    expect(stamped[0]).toBeLessThan(before + 20);
    log.attach(undefined);
    log.info("after stop");
    expect(telemetry.logs).toHaveLength(2);
  });

  it("with telemetry off nothing is held", () => {
    const log = createRackLogger({ level: "info", telemetry: false });
    for (let i = 0; i < 10; i++) log.info(`line ${i}`);
    const telemetry = recordingTelemetry();
    log.attach(telemetry);
    expect(telemetry.logs).toEqual([]);
  });

  it("masks URL credentials on every sink", () => {
    const console: string[] = [];
    const log = createRackLogger({
      level: "info",
      telemetry: true,
      console: { write: (t) => void console.push(t), tty: false, color: false },
    });
    const telemetry = recordingTelemetry();
    log.attach(telemetry);
    log.warn("cannot connect to nats://alice:s3cret@bus:4222");
    expect(console.join("")).not.toContain("s3cret");
    expect(telemetry.logs[0]?.message).not.toContain("s3cret");
  });
});

describe("logging.throttling", () => {
  it("lets burst lines through, then rate per second, and reports exactly how many it dropped", async () => {
    const reports: number[] = [];
    const settings = { enabled: true, rate: 1, burst: 5 };
    const throttle = new LogThrottle(settings, (count) => reports.push(count));
    let passed = 0;
    for (let i = 0; i < 100; i++) if (throttle.take()) passed++;
    expect(passed).toBe(5);
    expect(reports).toEqual([]);
    // The report comes a second after the first dropped line, without another line to carry it.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(reports).toEqual([95]);
    throttle.flush();
    expect(reports).toEqual([95]);
    // Turned off live (a SIGHUP reload): every line goes, none is counted.
    settings.enabled = false;
    for (let i = 0; i < 100; i++) if (throttle.take()) passed++;
    throttle.flush();
    expect(passed).toBe(105);
    expect(reports).toEqual([95]);
  });
});
