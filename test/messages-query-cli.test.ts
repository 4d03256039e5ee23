import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuidV7At } from "../mixer-worker/src/store/sample-records.ts";
import type { FluxAnswer, MessagesAnswer } from "../shared/journal/query-results.ts";
import type { JournalRecord } from "../shared/journal/record.ts";
import { messagesObjectKey, telemetryObjectKey } from "../shared/storage/object-keys.ts";
import type { LogRecord, SpanRecord } from "../shared/telemetry/records.ts";
import { putIntoLocalR2, type StoredFile, telemetryBucketName } from "./helpers/local-r2.ts";
import { NATIVE_MESSAGE_COLUMNS } from "./helpers/native-duckdb.ts";
import { runBin, startBin } from "./helpers/run-bin.ts";
import { startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";
import { startWriterWorker } from "./helpers/writer-worker.ts";

/**
 * `fluxrig messages` and `fluxrig flux`, the real binary against the real local mixer, over messages/ files
 * written by the mixer's own writer in workerd (as the bridge stores journal records) and put into its R2.
 * The same files open unchanged in native DuckDB, where `promoted ->> 'field'` works.
 */

const FLUX_AT = Date.now() - 10 * 60_000;
const FLUX = uuidV7At(FLUX_AT, 1);
const OTHER = uuidV7At(FLUX_AT, 2);
const TRACE = "7a".repeat(16);
const PAN = "411111******1111";

let n = 0;
const hop = (
  offset: number,
  entity: string,
  src: string | null,
  dst: string | null,
  over: Partial<JournalRecord> = {},
): JournalRecord => ({
  record_id: uuidV7At(FLUX_AT + offset, 0x100 + ++n),
  ts: FLUX_AT + offset,
  trace_id: TRACE,
  flux_id: FLUX,
  entity_id: uuidV7At(0, entity === "cli-sfo" ? 1 : 2),
  entity_name: entity,
  src_gear_id: src,
  dst_gear_id: dst,
  msg_type: "0100",
  direction: src === null ? "inbound" : dst === null ? "outbound" : "internal",
  status: "ok",
  raw_msg: Uint8Array.of(0xa1, n),
  promoted: { pan: PAN, amount: 1250, currency: "EUR" },
  spec: "visa-v1",
  ...over,
});
const visa = [
  hop(0, "cli-sfo", null, "decode"),
  hop(12, "cli-sfo", "decode", "router"),
  hop(2_400, "cli-nyc", "router", "hsm", { status: "error", msg_type: "0110" }),
  hop(2_410, "cli-nyc", "hsm", null, {
    msg_type: "0110",
    promoted: { pan: PAN, amount: 990, currency: "USD" },
  }),
  hop(60_000, "cli-sfo", null, "decode", { flux_id: OTHER, trace_id: "7b".repeat(16) }),
];
const generic = [hop(30, "cli-sfo", "router", "audit", { spec: null, promoted: null, msg_type: "audit" })];
const spans: SpanRecord[] = [
  ["a1a1a1a1a1a1a1a1", null, 0, 2_500, "authorize"],
  ["b2b2b2b2b2b2b2b2", "a1a1a1a1a1a1a1a1", 12, 2_300, "route"],
  ["c3c3c3c3c3c3c3c3", "b2b2b2b2b2b2b2b2", 2_400, 8, "hsm-verify"],
].map(([span_id, parent, offset, duration, name], i) => ({
  record_id: uuidV7At(FLUX_AT, 0x200 + i),
  ts: FLUX_AT + Number(offset),
  entity_id: uuidV7At(0, 1),
  entity_name: "cli-sfo",
  flux_id: FLUX,
  trace_id: TRACE,
  span_id: String(span_id),
  parent_span_id: parent === null ? null : String(parent),
  span_name: String(name),
  duration_ms: Number(duration),
  status: name === "hsm-verify" ? "error" : "ok",
  attributes: {},
}));
const logs: LogRecord[] = [
  {
    record_id: uuidV7At(FLUX_AT, 0x300),
    ts: FLUX_AT + 2_405,
    entity_id: uuidV7At(0, 2),
    entity_name: "cli-nyc",
    flux_id: FLUX,
    level: "error",
    message: "hsm refused the PIN block",
    attributes: { gear_id: "hsm" },
  },
];

describe("fluxrig messages and flux against a real mixer", { timeout: 180_000 }, () => {
  let mixer: TestMixer;
  let dir: string;
  let env: Record<string, string>;
  let native: DuckDBConnection;
  let visaFile: string;
  const fluxrig = (...args: string[]) => runBin("fluxrig", args, { env, timeoutMs: 60_000 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-messages-cli-"));
    const writer = await startWriterWorker();
    const files: StoredFile[] = [];
    const parquet = { format: "parquet", compression: "zstd" } as const;
    const keep = async (key: string, rows: { ts: number }[], bytes: Uint8Array) => {
      const path = join(dir, "tree", key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
      const range = rows.map((row) => row.ts);
      files.push({ key, path, rows: rows.length, tsMin: Math.min(...range), tsMax: Math.max(...range) });
      return path;
    };
    try {
      const opts = { partitionBy: "hour", format: "parquet" } as const;
      visaFile = await keep(
        messagesObjectKey("visa-v1", FLUX_AT, opts),
        visa,
        (await writer.writeMessages(visa, parquet)).bytes,
      );
      await keep(
        messagesObjectKey(null, FLUX_AT, opts),
        generic,
        (await writer.writeMessages(generic, parquet)).bytes,
      );
      await keep(
        telemetryObjectKey("traces", FLUX_AT, opts),
        spans,
        (await writer.write("traces", spans, parquet)).bytes,
      );
      await keep(
        telemetryObjectKey("logs", FLUX_AT, opts),
        logs,
        (await writer.write("logs", logs, parquet)).bytes,
      );
    } finally {
      await writer.dispose();
    }
    const storeDir = join(dir, "store");
    await mkdir(storeDir);
    await putIntoLocalR2(join(storeDir, "mixer"), await telemetryBucketName(), files);
    mixer = await startTestMixer({ storeDir });
    env = { FLUXRIG_API_URL: mixer.apiUrl, FLUXRIG_API_TOKEN: mixer.token, FLUXRIG_BASE_STATE_DIR: dir };
    native = await (await DuckDBInstance.create(":memory:")).connect();
  }, 180_000);

  afterAll(async () => {
    native?.closeSync();
    await mixer?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("stores files that open unchanged in native DuckDB, promoted readable with ->>", async () => {
    const described = (await native.runAndReadAll(`DESCRIBE SELECT * FROM '${visaFile}'`)).getRowObjectsJS();
    expect(described.map((c) => [c.column_name, c.column_type])).toEqual(NATIVE_MESSAGE_COLUMNS);
    const rows = (
      await native.runAndReadAll(
        `SELECT promoted ->> 'pan' AS pan, (promoted ->> 'amount')::INTEGER AS amount, count(*)::INTEGER AS n
         FROM '${visaFile}' WHERE promoted ->> 'currency' = 'EUR' GROUP BY ALL ORDER BY amount`,
      )
    ).getRowObjectsJS();
    expect(rows).toEqual([{ pan: PAN, amount: 1250, n: 4 }]);
  });

  it("prints messages as a table, oldest first, with every filter the API takes", async () => {
    const r = await fluxrig("messages", "--flux-id", FLUX);
    expect(r.code, r.stderr).toBe(0);
    const [header, ...lines] = r.stdout.trimEnd().split("\n");
    expect(header?.split(/\s{2,}/)).toEqual([
      "TIME",
      "ENTITY",
      "HOP",
      "DIRECTION",
      "STATUS",
      "TYPE",
      "SPEC",
      "FLUX ID",
      "PROMOTED",
    ]);
    expect(lines.map((line) => line.split(/\s{2,}/).slice(1, 7))).toEqual([
      ["cli-sfo", "(in) → decode", "inbound", "ok", "0100", "visa-v1"],
      ["cli-sfo", "decode → router", "internal", "ok", "0100", "visa-v1"],
      ["cli-sfo", "router → audit", "internal", "ok", "audit", "generic"],
      ["cli-nyc", "router → hsm", "internal", "error", "0110", "visa-v1"],
      ["cli-nyc", "hsm → (out)", "outbound", "ok", "0110", "visa-v1"],
    ]);
    expect(lines[0]).toContain(`pan=${PAN} amount=1250 currency=EUR`);
    const count = async (...args: string[]) => {
      const out = await fluxrig("messages", "-o", "ndjson", ...args);
      expect(out.code, out.stderr).toBe(0);
      return out.stdout.trimEnd().split("\n").filter(Boolean).length;
    };
    expect(await count("--status", "error")).toBe(1);
    expect(await count("--spec", "visa-v1")).toBe(5);
    expect(await count("--gear", "router")).toBe(3);
    expect(await count("--promoted", "currency=EUR", "--promoted", "amount=1250")).toBe(4);
    expect(await count("--promoted", "amount=990")).toBe(1);
    expect(await count("--direction", "outbound", "--entity", "cli-nyc", "--msg-type", "0110")).toBe(1);
  });

  it("prints the API's JSON, with raw_msg only when asked", async () => {
    const plain = JSON.parse(
      (await fluxrig("messages", "-o", "json", "--status", "error")).stdout,
    ) as MessagesAnswer;
    expect(plain.messages).toHaveLength(1);
    expect(plain.messages[0]).not.toHaveProperty("raw_msg");
    const raw = await fluxrig("messages", "-o", "json", "--status", "error", "--include-raw");
    const [message] = (JSON.parse(raw.stdout) as MessagesAnswer).messages;
    expect(message?.raw_msg).toBe(Buffer.from(visa[2]?.raw_msg ?? []).toString("base64"));
  });

  it("tells the flux's story hop by hop, the failing hop marked, then its spans and logs", async () => {
    const r = await fluxrig("flux", FLUX);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(
      `flux ${FLUX}: 5 hops over 2.41 s on cli-sfo, cli-nyc; failed at hop 3 (router → hsm on cli-nyc)`,
    );
    expect(lines[1]?.split(/\s{2,}/)).toEqual([
      "HOP",
      "OFFSET",
      "RACK",
      "SRC → DST",
      "DIRECTION",
      "STATUS",
      "TYPE",
      "SPEC",
    ]);
    expect(lines.slice(2, 7).map((line) => line.split(/\s{2,}/))).toEqual([
      ["0", "+0 ms", "cli-sfo", "(in) → decode", "inbound", "ok", "0100", "visa-v1"],
      ["1", "+12 ms", "cli-sfo", "decode → router", "internal", "ok", "0100", "visa-v1"],
      ["2", "+30 ms", "cli-sfo", "router → audit", "internal", "ok", "audit", "generic"],
      ["3", "+2.4 s", "cli-nyc", "router → hsm", "internal", "error", "0110", "visa-v1", "✗ FAILED HERE"],
      ["4", "+2.41 s", "cli-nyc", "hsm → (out)", "outbound", "ok", "0110", "visa-v1"],
    ]);
    expect(lines[8]).toBe(`spans (3 in 1 trace: ${TRACE})`);
    expect(lines[9]).toMatch(/^authorize {2,}2\.5 s {2,}ok {2,}cli-sfo {2}\+0 ms$/);
    expect(lines[10]).toMatch(/^└─ route {2,}2\.3 s {2,}ok {2,}cli-sfo {2}\+12 ms$/);
    expect(lines[11]).toMatch(/^ {3}└─ hsm-verify {2,}8 ms {2,}error {2}cli-sfo {2}\+2\.4 s$/);
    expect(lines[13]).toBe("logs (1)");
    expect(lines[14]).toMatch(/ERROR {2}cli-nyc {2}hsm refused the PIN block gear_id="hsm"$/);
    const json = JSON.parse((await fluxrig("flux", FLUX, "-o", "json")).stdout) as FluxAnswer;
    expect(json.messages.map((m) => m.hop)).toEqual([0, 1, 2, 3, 4]);
    expect(json.spans).toHaveLength(3);
    // Only the hour the id names (and the next, if it exists) was read: four objects, one of each kind.
    expect(json.scanned.objects).toBe(4);
  });

  it("follows new messages until Ctrl-C", async () => {
    const follower = startBin("fluxrig", ["messages", "-f", "--flux-id", FLUX, "-o", "ndjson"], { env });
    await follower.waitFor(/"dst_gear_id":null/);
    // Let a poll or two run: already printed messages are not printed again.
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    expect(await follower.stop("SIGINT")).toBe(0);
    const printed = follower.output
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line).record_id);
    expect(printed).toEqual([visa[0], visa[1], generic[0], visa[2], visa[3]].map((m) => m?.record_id));
  });

  it("fails with one readable line and a non-zero status", async () => {
    const missing = await fluxrig("flux", uuidV7At(FLUX_AT, 99));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `404 Not Found: no messages, spans or logs of flux ${uuidV7At(FLUX_AT, 99)}`,
    );
    const malformed = await fluxrig("flux", "not-a-flux");
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain("400 Bad Request: flux_id must be a flux id: a UUID v7");
    const badPromoted = await fluxrig("messages", "--promoted", "currency");
    expect(badPromoted.code).toBe(2);
    expect(badPromoted.stderr).toContain("--promoted takes field=value");
    const badField = await fluxrig("messages", "--promoted", "a b=1");
    expect(badField.code).toBe(1);
    expect(badField.stderr).toContain("400 Bad Request: promoted.a b must be a field of promoted");
    const followJson = await fluxrig("messages", "-f", "-o", "json");
    expect(followJson.code).not.toBe(0);
  });
});
