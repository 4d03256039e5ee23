import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { uuidv7 } from "uuidv7";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTelemetry } from "../rack-agent/src/telemetry/index.ts";
import { cbor } from "../shared/fluxmsg/cbor.ts";
import { TELEMETRY_DEAD_LETTER, telemetrySubject } from "../shared/fluxmsg/subjects.ts";
import { nativeQuery, sqlString } from "./helpers/native-duckdb.ts";
import { runBin } from "./helpers/run-bin.ts";
import { downloadStored, listStored } from "./helpers/stored-files.ts";
import { eventually, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

const FLUSH = { FLUXRIG_INGEST_FLUSH_INTERVAL: "1s" };

/** The reference's columns, in order, as native DuckDB reads our files; record_id is ours (dedupe). */
const EXPECTED_COLUMNS = {
  logs: [
    ["ts", "TIMESTAMP"],
    ["entity_id", "UUID"],
    ["entity_name", "VARCHAR"],
    ["flux_id", "UUID"],
    ["level", "VARCHAR"],
    ["message", "VARCHAR"],
    ["attributes", "JSON"],
    ["record_id", "UUID"],
  ],
  metrics: [
    ["ts", "TIMESTAMP"],
    ["name", "VARCHAR"],
    ["entity_id", "UUID"],
    ["entity_name", "VARCHAR"],
    ["type", "VARCHAR"],
    ["value", "DOUBLE"],
    ["labels", "JSON"],
    ["record_id", "UUID"],
  ],
  traces: [
    ["ts", "TIMESTAMP"],
    ["trace_id", "VARCHAR"],
    ["span_id", "VARCHAR"],
    ["parent_span_id", "VARCHAR"],
    ["flux_id", "UUID"],
    ["entity_id", "UUID"],
    ["entity_name", "VARCHAR"],
    ["span_name", "VARCHAR"],
    ["duration_ms", "FLOAT"],
    ["status", "VARCHAR"],
    ["attributes", "JSON"],
    ["record_id", "UUID"],
  ],
} as const;

async function health(mixer: TestMixer) {
  const res = await fetch(`${mixer.apiUrl}/health`);
  return (await res.json()) as {
    ingest: { records_stored: number; messages_dead_lettered: number; records_dead_lettered: number };
  };
}

async function parquetOf(
  mixer: TestMixer,
  kind: string,
  dir: string,
): Promise<{ keys: string[]; from: string }> {
  const keys = (await listStored(mixer, `telemetry/${kind}/`)).map((f) => f.key);
  const paths = await downloadStored(mixer, keys, dir);
  return { keys, from: `read_parquet([${paths.map(sqlString).join(", ")}])` };
}

describe("telemetry spine: rack client → nats-server → mixer in workerd → Parquet in R2", () => {
  let mixer: TestMixer;
  let nc: NatsConnection;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-spine-"));
    mixer = await startTestMixer({
      env: {
        ...FLUSH,
        FLUXRIG_MIXER_MAX_PAYLOAD_SIZE: "64KiB",
        OTEL_TEAM: "payments",
        OTEL_API_KEY: "k-123",
      },
      // A ${VAR} must reach the Worker too, not only `config show`.
      toml: '[observability.otlp]\nheaders = { "x-team" = "${OTEL_TEAM}", "api-key" = "${OTEL_API_KEY}" }\n',
    });
    nc = await mixer.connectBus();
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    await mixer?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("stores logs, metrics and spans with the reference's columns, types and partition paths", async () => {
    const entity = { id: uuidv7(), name: "rack-nyc-01" };
    const telemetry = await createTelemetry({
      nc,
      domain: "flux",
      entity,
      maxPayloadSize: 64 * 1024,
      samplingRate: 1,
      enabled: true,
      stateDir: join(dir, "rack-state"),
      warn: console.warn,
      selfMetricsIntervalMs: 3_600_000,
    });
    const fluxId = uuidv7();
    const levels = ["debug", "info", "warn", "error"] as const;
    for (let i = 0; i < 120; i++) {
      await telemetry.log(
        levels[i % 4] as (typeof levels)[number],
        `payment ${i} routed`,
        { gear_id: "iso8583-in", i },
        i === 0 ? fluxId : null,
      );
    }
    for (let i = 0; i < 10; i++) {
      await telemetry.counter("gear_messages_total", 1, { gear: "router" });
      await telemetry.gauge("queue_depth", i, { gear: "router" });
      await telemetry.histogram("gear_latency_ms", 2.5 * i, { gear: "router" });
    }
    const root = telemetry.startSpan("authorize", { fluxId });
    const child = telemetry.startSpan("lookup-card", { parent: root.context, fluxId });
    await child.end({ status: "ok" });
    await root.end({ status: "error", attributes: { code: "51" } });
    await telemetry.close();
    const stats = telemetry.stats();
    const sent = 120 + 30 + 2;
    expect(stats.recordsSent).toBeGreaterThanOrEqual(sent);

    await eventually("all records stored", async () =>
      (await health(mixer)).ingest.records_stored >= stats.recordsSent ? true : undefined,
    );

    const logs = await parquetOf(mixer, "logs", dir);
    for (const key of logs.keys)
      expect(key).toMatch(/^telemetry\/logs\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/logs_[0-9A-Z]{26}\.parquet$/);
    const described = await nativeQuery(`DESCRIBE SELECT * FROM ${logs.from}`);
    expect(described.map((c) => [c.column_name, c.column_type])).toEqual(EXPECTED_COLUMNS.logs);
    const [counts] = await nativeQuery(
      `SELECT count(*)::INT AS n, count(DISTINCT record_id)::INT AS ids, count(flux_id)::INT AS with_flux,
              count(*) FILTER (level = 'error')::INT AS errors, min(entity_name) AS name,
              max(json_extract_string(attributes, '$.gear_id')) AS gear
       FROM ${logs.from}`,
    );
    expect(counts).toEqual({
      n: 120,
      ids: 120,
      with_flux: 1,
      errors: 30,
      name: "rack-nyc-01",
      gear: "iso8583-in",
    });
    // Each object sits in the hour of its records' timestamps.
    const [misplaced] = await nativeQuery(
      `SELECT count(*)::INT AS n FROM read_parquet([${(await downloadStored(mixer, logs.keys, dir)).map(sqlString).join(",")}], filename = true)
       WHERE strftime(ts, '%Y/%m/%d/%H') <> regexp_extract(filename, 'logs/(\\d{4}/\\d{2}/\\d{2}/\\d{2})/', 1)`,
    );
    expect(misplaced).toEqual({ n: 0 });

    const metrics = await parquetOf(mixer, "metrics", dir);
    expect(
      (await nativeQuery(`DESCRIBE SELECT * FROM ${metrics.from}`)).map((c) => [
        c.column_name,
        c.column_type,
      ]),
    ).toEqual(EXPECTED_COLUMNS.metrics);
    const byType = await nativeQuery(
      `SELECT type, count(*)::INT AS n, sum(value) AS total FROM ${metrics.from} WHERE name NOT LIKE 'fluxrig.%' GROUP BY type ORDER BY type`,
    );
    expect(byType).toEqual([
      { type: "counter", n: 10, total: 10 },
      { type: "gauge", n: 10, total: 45 },
      { type: "histogram", n: 10, total: 112.5 },
    ]);

    const traces = await parquetOf(mixer, "traces", dir);
    expect(
      (await nativeQuery(`DESCRIBE SELECT * FROM ${traces.from}`)).map((c) => [c.column_name, c.column_type]),
    ).toEqual(EXPECTED_COLUMNS.traces);
    const spans = await nativeQuery(
      `SELECT span_name, status, parent_span_id IS NULL AS is_root, flux_id::VARCHAR AS flux_id, length(trace_id)::INT AS tl
       FROM ${traces.from} ORDER BY span_name`,
    );
    expect(spans).toEqual([
      { span_name: "authorize", status: "error", is_root: true, flux_id: fluxId, tl: 32 },
      { span_name: "lookup-card", status: "ok", is_root: false, flux_id: fluxId, tl: 32 },
    ]);
  });

  it("dead-letters malformed messages with the reason, and their neighbours still land", async () => {
    const js = jetstream(nc, { domain: "flux" });
    const dead: { subject: string; reason: string }[] = [];
    const sub = nc.subscribe(`${TELEMETRY_DEAD_LETTER}.>`, {
      callback: (_error, msg) => {
        dead.push({ subject: msg.subject, reason: msg.headers?.get("Fluxrig-Dead-Letter-Reason") ?? "" });
      },
    });
    const before = (await health(mixer)).ingest.records_stored;
    const entity_id = uuidv7();
    const good = (message: string) => ({
      record_id: uuidv7(),
      ts: Date.now(),
      entity_id,
      entity_name: "rack-dlq",
      level: "info",
      message,
      attributes: {},
    });
    const subject = telemetrySubject("logs", "rack-dlq");
    const publish = (data: Uint8Array) => js.publish(subject, data, { msgID: uuidv7() });
    await publish(new Uint8Array([0xff, 0x00, 0x13]));
    await publish(cbor.encode({ v: 1, kind: "logs", rows: [good("no records key")] }));
    await publish(
      cbor.encode({
        v: 1,
        kind: "logs",
        records: [good("kept 1"), { ...good("bad level"), level: "loud" }, good("kept 2")],
      }),
    );
    await publish(cbor.encode({ v: 1, kind: "logs", records: [good("x".repeat(70 * 1024))] }));
    await publish(cbor.encode({ v: 1, kind: "logs", records: [good("kept 3")] }));

    await eventually("good neighbours stored", async () =>
      (await health(mixer)).ingest.records_stored >= before + 3 ? true : undefined,
    );
    await eventually("four dead letters", async () => (dead.length >= 4 ? true : undefined), 10_000);
    sub.unsubscribe();
    const reasons = dead.map((d) => d.reason).join("\n");
    expect(reasons).toContain("not valid CBOR");
    expect(reasons).toContain("not a telemetry batch: records");
    expect(reasons).toMatch(/records\[1\]\.level/);
    expect(reasons).toContain("exceeds max_payload_size 65536");
    expect(dead.every((d) => d.subject === `${TELEMETRY_DEAD_LETTER}.logs`)).toBe(true);

    const logs = await parquetOf(mixer, "logs", dir);
    const kept = await nativeQuery(
      `SELECT message FROM ${logs.from} WHERE entity_name = 'rack-dlq' ORDER BY message`,
    );
    expect(kept.map((r) => r.message)).toEqual(["kept 1", "kept 2", "kept 3"]);
  });

  it("refuses alone a record the writer cannot store: it is dead-lettered, and its neighbours land", async () => {
    const js = jetstream(nc, { domain: "flux" });
    const dead: string[] = [];
    const sub = nc.subscribe(`${TELEMETRY_DEAD_LETTER}.>`, {
      callback: (_error, msg) => {
        dead.push(msg.headers?.get("Fluxrig-Dead-Letter-Reason") ?? "");
      },
    });
    const entity_id = uuidv7();
    const log = (message: string, attributes: Record<string, unknown> = {}) => ({
      record_id: uuidv7(),
      ts: Date.now(),
      entity_id,
      entity_name: "rack-poison",
      level: "warn",
      message,
      attributes,
    });
    const subject = telemetrySubject("logs", "rack-poison");
    // A CBOR bignum passes the record schema but cannot be written as JSON: only the writer finds out.
    for (const records of [[log("before")], [log("poison", { big: 2n ** 70n })], [log("after")]]) {
      await js.publish(subject, cbor.encode({ v: 1, kind: "logs", records }), { msgID: uuidv7() });
    }
    await eventually(
      "the poisonous batch dead-lettered",
      async () => (dead.length > 0 ? true : undefined),
      20_000,
    );
    sub.unsubscribe();
    // Refused alone, when its message arrives: its neighbours are stored at the next flush.
    expect(dead[0]).toMatch(/^records\[0\]: cannot write logs as parquet: .*BigInt/);
    const kept = await eventually(
      "the poisonous batch's neighbours stored",
      async () => {
        const logs = await parquetOf(mixer, "logs", dir);
        const rows = await nativeQuery(
          `SELECT message FROM ${logs.from} WHERE entity_name = 'rack-poison' ORDER BY message`,
        );
        return rows.length >= 2 ? rows : undefined;
      },
      20_000,
    );
    expect(kept.map((r) => r.message)).toEqual(["after", "before"]);
  });

  it("refuses records from a clock far off, naming the likely cause", async () => {
    const js = jetstream(nc, { domain: "flux" });
    const dead: string[] = [];
    const sub = nc.subscribe(`${TELEMETRY_DEAD_LETTER}.>`, {
      callback: (_error, msg) => {
        dead.push(msg.headers?.get("Fluxrig-Dead-Letter-Reason") ?? "");
      },
    });
    const record = (ts: number) => ({
      record_id: uuidv7(),
      ts,
      entity_id: uuidv7(),
      entity_name: "rack-rtc",
      level: "info",
      message: "clock",
      attributes: {},
    });
    const records = [record(1_000), record(Date.now() + 400 * 86_400_000)];
    await js.publish(telemetrySubject("logs", "rack-rtc"), cbor.encode({ v: 1, kind: "logs", records }), {
      msgID: uuidv7(),
    });
    await eventually("the records refused", async () => (dead.length > 0 ? true : undefined), 10_000);
    sub.unsubscribe();
    expect(dead[0]).toContain("records[0].ts: 1970-01-01T00:00:01.000Z is older than the retention window");
    expect(dead[0]).toContain("records[1].ts:");
    expect(dead[0]).toContain("is more than a day ahead of the mixer's clock");
  });

  it("fluxrig emit pushes records through the real client and exits once all are acknowledged", async () => {
    const before = (await health(mixer)).ingest.records_stored;
    const r = await runBin(
      "fluxrig",
      ["emit", "logs", "--count", "500", "--entity", "rack-emit", "--snake-url", mixer.natsUrl],
      {
        // Under the 64 KiB this mixer accepts per message; the local mixer's store holds emit.creds.
        env: {
          FLUXRIG_BASE_STATE_DIR: join(dir, "emit-state"),
          FLUXRIG_RACK_MAX_PAYLOAD_SIZE: "32KiB",
          FLUXRIG_STORE_DIR: mixer.storeDir,
        },
        timeoutMs: 60_000,
      },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^logs: 500 emitted as rack-emit to nats:\/\/127\.0\.0\.1:\d+: 500 acknowledged in \d+ batches, 0 spooled, 0 dropped/,
    );
    await eventually("the emitted records stored", async () =>
      (await health(mixer)).ingest.records_stored >= before + 500 ? true : undefined,
    );
    const logs = await parquetOf(mixer, "logs", dir);
    const [row] = await nativeQuery(
      `SELECT count(*)::INT AS n FROM ${logs.from} WHERE entity_name = 'rack-emit'`,
    );
    expect(row).toEqual({ n: 500 });
  });

  it("fluxrig emit names the URL and the setting when the bus is unreachable, and validates its flags", async () => {
    const down = await runBin(
      "fluxrig",
      ["emit", "logs", "--count", "5", "--snake-url", "nats://127.0.0.1:1"],
      {
        env: { FLUXRIG_BASE_STATE_DIR: join(dir, "emit-down"), FLUXRIG_SNAKE_CONNECT_TIMEOUT: "2s" },
      },
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("cannot connect to Snake at nats://127.0.0.1:1");
    const bad = await runBin("fluxrig", ["emit", "logz", "--count", "5"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected one of logs, metrics, spans, got "logz"');
    const count = await runBin("fluxrig", ["emit", "logs", "--count", "-3"]);
    expect(count.code).toBe(2);
    expect(count.stderr).toContain('--count takes a whole number above 0, got "-3"');

    // The bus runs in operator mode: without credentials emit is refused, and says what to present.
    const anonymous = await runBin(
      "fluxrig",
      ["emit", "logs", "--count", "5", "--snake-url", mixer.natsUrl],
      {
        env: {
          FLUXRIG_BASE_STATE_DIR: join(dir, "emit-anonymous"),
          FLUXRIG_STORE_DIR: join(dir, "no-store"),
        },
      },
    );
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/Authorization Violation.*operator mode/i);
    const missing = await runBin("fluxrig", [
      "emit",
      "logs",
      "--count",
      "5",
      "--creds",
      join(dir, "nope.creds"),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`--creds ${join(dir, "nope.creds")}: no such file`);
  });

  it("the running mixer and `fluxrig-mixer config show` agree on the effective config", async () => {
    const shown = await runBin(
      "fluxrig-mixer",
      ["--config", mixer.configFile as string, "config", "show", "--json"],
      {
        env: mixer.env,
      },
    );
    expect(shown.code).toBe(0);
    const running = (await (await mixer.api("/api/v1/config")).json()) as Record<
      string,
      Record<string, unknown>
    >;
    // The launcher generates the bootstrap token on first start, so only the running mixer has it (masked).
    expect(running.enrollment?.bootstrap_token).toBe("********");
    const expected = JSON.parse(shown.stdout);
    expected.enrollment.bootstrap_token = "********";
    expect(running).toEqual(expected);
    expect(running).toMatchObject({
      ingest: { flush_interval: "1s" },
      api: { token: "********" },
      // A ${VAR} is shown as written: the variable may hold a credential whatever its name.
      observability: { otlp: { headers: { "x-team": "${OTEL_TEAM}", "api-key": "********" } } },
    });
  });
});
