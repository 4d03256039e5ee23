import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTelemetry } from "../rack-agent/src/telemetry/index.ts";
import type { LogsAnswer } from "../shared/telemetry/query-results.ts";
import { runBin, startBin } from "./helpers/run-bin.ts";
import { eventually, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

/**
 * `fluxrig logs | metrics | traces`, the real binary against the real local mixer (nats-server + the
 * Worker under wrangler dev), fed through `fluxrig emit` and the rack's telemetry client.
 */
describe("fluxrig logs, metrics and traces against a real mixer", { timeout: 60_000 }, () => {
  let mixer: TestMixer;
  let dir: string;
  let env: Record<string, string>;
  let traceId: string;
  const fluxrig = (...args: string[]) => runBin("fluxrig", args, { env, timeoutMs: 60_000 });
  const stateDir = (name: string) => join(dir, name);

  /** Waits until the API returns `count` records for a path (ingest flushes every second). */
  const stored = (path: string, count: (body: Record<string, unknown[]>) => number, want: number) =>
    eventually(`${want} stored for ${path}`, async () => {
      const res = await mixer.api(path);
      return res.ok && count((await res.json()) as Record<string, unknown[]>) >= want ? true : undefined;
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-query-cli-"));
    mixer = await startTestMixer({ env: { FLUXRIG_INGEST_FLUSH_INTERVAL: "1s" } });
    env = { FLUXRIG_API_URL: mixer.apiUrl, FLUXRIG_API_TOKEN: mixer.token, FLUXRIG_BASE_STATE_DIR: dir };
    const emitted = await Promise.all(
      (["logs", "metrics"] as const).map((kind) =>
        runBin("fluxrig", ["emit", kind, "--count", kind === "logs" ? "12" : "30", "--entity", "cli-rack"], {
          env: {
            FLUXRIG_SNAKE_URL: mixer.natsUrl,
            FLUXRIG_BASE_STATE_DIR: stateDir(`emit-${kind}`),
            // Where emit finds the local mixer's emit.creds (the bus runs in operator mode).
            FLUXRIG_STORE_DIR: mixer.storeDir,
          },
          timeoutMs: 60_000,
        }),
      ),
    );
    for (const r of emitted) expect(r.code, r.stderr).toBe(0);
    // A trace with a child and a grandchild, through the rack's own client.
    const nc = await mixer.connectBus();
    const telemetry = await createTelemetry({
      nc,
      domain: "flux",
      entity: { id: "0190a0b0-0000-7000-8000-00000000c11e", name: "cli-tracer" },
      maxPayloadSize: 64 * 1024,
      samplingRate: 1,
      enabled: true,
      stateDir: stateDir("tracer"),
      warn: console.warn,
      selfMetricsIntervalMs: 3_600_000,
    });
    const root = telemetry.startSpan("authorize");
    const child = telemetry.startSpan("lookup-card", { parent: root.context });
    const grandchild = telemetry.startSpan("hsm-verify", { parent: child.context });
    await grandchild.end({ status: "error" });
    await child.end();
    await root.end();
    await telemetry.close();
    await nc.close();
    traceId = root.context.traceId;
    await stored("/api/v1/telemetry/logs?entity=cli-rack", (b) => b.logs?.length ?? 0, 12);
    const gaugePoints = (b: Record<string, unknown[]>) =>
      (b.series as { points: { count: number }[] }[])
        .flatMap((s) => s.points)
        .reduce((n, p) => n + p.count, 0);
    await stored(
      "/api/v1/telemetry/metrics/fluxrig.emit.queue_depth?entity=cli-rack&interval=1h",
      gaugePoints,
      10,
    );
    await stored(`/api/v1/telemetry/traces/${traceId}`, (b) => b.spans?.length ?? 0, 3);
  }, 180_000);

  afterAll(async () => {
    await mixer?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("prints logs as a table, oldest first, filtered by level and entity", async () => {
    const r = await fluxrig("logs", "--min-level", "warn", "--entity", "cli-rack", "--since", "1h");
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    // emit's levels cycle debug, info, info, info, warn, error: records 4, 5, 10 and 11 are warn or error.
    expect(lines.map((line) => line.split(/\s+/).slice(1, 3))).toEqual([
      ["WARN", "cli-rack"],
      ["ERROR", "cli-rack"],
      ["WARN", "cli-rack"],
      ["ERROR", "cli-rack"],
    ]);
    expect(lines[1]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}ERROR {2}cli-rack {2}synthetic message 5 through router gear_id="router" seq=5$/,
    );
    expect(r.stderr).toBe("");
  });

  it("prints the API's JSON and NDJSON, and searches with -q", async () => {
    const json = await fluxrig("logs", "--entity", "cli-rack", "-q", "MESSAGE 1", "--output", "json");
    expect(json.code, json.stderr).toBe(0);
    const answer = JSON.parse(json.stdout) as LogsAnswer;
    expect(answer.logs.map((log) => log.message)).toEqual([
      "synthetic message 11 through switch-out",
      "synthetic message 10 through hsm",
      "synthetic message 1 through router",
    ]);
    expect(answer).toMatchObject({ limit: 50, offset: 0, next: null, truncated: false });
    const ndjson = await fluxrig("logs", "--entity", "cli-rack", "--limit", "2", "-o", "ndjson");
    const lines = ndjson.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((log) => log.attributes.seq)).toEqual([10, 11]);
    expect(ndjson.stderr).toContain("note: the newest 2 shown");
  });

  it("prints metric series with their totals and a sparkline", async () => {
    const r = await fluxrig(
      "metrics",
      "--name",
      "fluxrig.emit.queue_depth",
      "--entity",
      "cli-rack",
      "--group-by",
      "gear",
      "--since",
      "1h",
    );
    expect(r.code, r.stderr).toBe(0);
    const [header, ...rows] = r.stdout.trimEnd().split("\n");
    expect(header?.split(/\s{2,}/)).toEqual([
      "NAME",
      "TYPE",
      "GROUP",
      "COUNT",
      "MIN",
      "AVG",
      "MAX",
      "LAST",
      "PER 1m",
    ]);
    // Gauge points are emitted at i = 1, 4, 7 … 28 with value i, gear cycling over 4 gears by i:
    // router (i % 4 = 1) has i = 1, 13, 25.
    const router = rows.find((row) => row.includes("gear=router"))?.split(/\s{2,}/);
    expect(router?.slice(0, 8)).toEqual([
      "fluxrig.emit.queue_depth",
      "gauge",
      "gear=router",
      "3",
      "1",
      "13",
      "25",
      "25",
    ]);
    expect(router?.[8]).toMatch(/^[ ▁▂▃▄▅▆▇█]+$/);
    expect(rows).toHaveLength(4);
  });

  it("lists traces and prints one as an indented tree", async () => {
    const list = await fluxrig("traces", "--since", "1h", "--entity", "cli-tracer");
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(
        `^START +TRACE ID +DURATION +STATUS +ROOT SPAN +ENTITY\\n\\S+ +${traceId} +[\\d.]+ m?s +ok +authorize +cli-tracer\\n$`,
      ),
    );
    const tree = await fluxrig("traces", traceId);
    expect(tree.code, tree.stderr).toBe(0);
    const lines = tree.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^trace ${traceId}: 3 spans from \\d{4}-`));
    expect(lines[1]).toMatch(/^authorize {2,}[\d.]+ m?s {2,}ok {2,}cli-tracer {2}\+0 ms$/);
    expect(lines[2]).toMatch(/^└─ lookup-card {2,}[\d.]+ m?s {2,}ok {2,}cli-tracer {2}\+[\d.]+ m?s$/);
    expect(lines[3]).toMatch(/^ {3}└─ hsm-verify {2,}[\d.]+ m?s {2,}error {2}cli-tracer {2}\+[\d.]+ m?s$/);
    expect(lines).toHaveLength(4);
  });

  it("follows new log records until Ctrl-C", async () => {
    const follower = startBin("fluxrig", ["logs", "-f", "--entity", "cli-follow", "-o", "ndjson"], { env });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const r = await runBin("fluxrig", ["emit", "logs", "--count", "2", "--entity", "cli-follow"], {
      env: {
        FLUXRIG_SNAKE_URL: mixer.natsUrl,
        FLUXRIG_BASE_STATE_DIR: stateDir("emit-follow"),
        FLUXRIG_STORE_DIR: mixer.storeDir,
      },
    });
    expect(r.code, r.stderr).toBe(0);
    await follower.waitFor(/"message":"synthetic message 1 through router"/);
    expect(await follower.stop("SIGINT")).toBe(0);
    const printed = follower.output
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line).message);
    expect(printed).toEqual(["synthetic message 0 through iso8583-in", "synthetic message 1 through router"]);
  });

  it("fails with one readable line and a non-zero status", async () => {
    const unreachable = await fluxrig("logs", "--api-url", "http://127.0.0.1:1");
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      /^fluxrig: cannot reach the mixer at http:\/\/127\.0\.0\.1:1 \(--api-url\): .+\n$/,
    );
    const wrongToken = await fluxrig("metrics", "--token", "not-the-token");
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toMatch(/401 Unauthorized: the bearer token is not valid\n$/);
    const badSince = await fluxrig("logs", "--since", "yesterday");
    expect(badSince.code).toBe(1);
    expect(badSince.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(badSince.stderr).toContain("400 Bad Request: since must be an RFC 3339 time with a zone");
    expect(badSince.stderr).toContain('got "yesterday"');
    const missing = await fluxrig("traces", "f".repeat(32));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`404 Not Found: no spans of trace ${"f".repeat(32)}`);
    const usage = await fluxrig("logs", "--min-level", "loud");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("Allowed choices are debug, info, warn, error");
  });
});
