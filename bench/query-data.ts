/**
 * The query benchmark's tree: logs, metrics, traces and journaled messages shaped like a busy deployment, written as
 * Parquet by native DuckDB with the stored schema (the mixer's own column list and types), one object per
 * flush-sized slice of an hour, then put into the local mixer's R2 with the metadata ingest writes.
 */
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { duckDbType, MESSAGE_COLUMNS, TELEMETRY_COLUMNS } from "../mixer-worker/src/store/parquet-schema.ts";
import { messagesObjectKey, telemetryObjectKey } from "../shared/storage/object-keys.ts";
import type { TelemetryKind } from "../shared/telemetry/records.ts";
import type { StoredFile } from "../test/helpers/local-r2.ts";
import { sqlString } from "../test/helpers/native-duckdb.ts";

const HOUR = 3_600_000;
/** Ingest writes at most 50k rows an object (one flush); the logs objects here are about that size. */
const LOG_ROWS_PER_OBJECT = 46_300;

/** A text search with about one match in fifty rows, and one that matches a single row in the oldest hour. */
export const COMMON_TERM = "declined";
export const RARE_TERM = "needle-7f3a9c";
export const GAUGE = "fluxrig.rack.queue_depth";

/** The SELECT of one object's rows: global row indexes `from` to `to`, of an hour holding `perHour` rows. */
type RowsSql = (from: number, to: number, hour: number, perHour: number) => string;

const ENUM = (kind: TelemetryKind, name: string) =>
  duckDbType(TELEMETRY_COLUMNS[kind].find((column) => column.name === name)?.type ?? "VARCHAR");

/** 50 racks, levels 5% error, 10% warn, 70% info, 15% debug; flux ids on two thirds; one rare needle. */
const logRows: RowsSql = (from, to, hour, perHour) => `SELECT
  epoch_ms(${hour} + (i % ${perHour}) * ${HOUR} // ${perHour})::TIMESTAMP AS ts,
  md5('rack-' || (hash(i) % 50))::UUID AS entity_id,
  'rack-sfo-' || (hash(i) % 50) AS entity_name,
  CASE WHEN hash(i * 7) % 3 = 0 THEN NULL ELSE md5('flux-' || i)::UUID END AS flux_id,
  (CASE WHEN hash(i * 3) % 100 < 5 THEN 'error' WHEN hash(i * 3) % 100 < 15 THEN 'warn'
    WHEN hash(i * 3) % 100 < 85 THEN 'info' ELSE 'debug' END)::${ENUM("logs", "level")} AS level,
  CASE WHEN i = 4242 THEN 'payment ${RARE_TERM} declined by issuer (05)'
    WHEN hash(i * 11) % 50 = 0 THEN 'payment ' || substr(md5(i::VARCHAR), 1, 8) || ' ${COMMON_TERM} by issuer (51)'
    ELSE 'payment ' || substr(md5(i::VARCHAR), 1, 8) || ' routed to gear-' || (i % 9) || ' in ' || (hash(i * 5) % 900) || ' ms, retry=' || (i % 5) END AS message,
  ('{"gear_id":"gear-' || (i % 9) || '","attempt":' || (i % 5) || ',"amount":' || (hash(i * 13) % 100000) / 100 || '}')::JSON AS attributes,
  md5('record-' || i)::UUID AS record_id
FROM range(${from}, ${to}) r(i)`;

const METRICS = [
  ["fluxrig.gear.latency_ms", "histogram"],
  [GAUGE, "gauge"],
  ["fluxrig.rack.heartbeats_sent", "counter"],
  ["fluxrig.rack.cpu_percent", "gauge"],
  ["fluxrig.rack.memory_bytes", "gauge"],
  ["fluxrig.gear.messages_in", "counter"],
  ["fluxrig.gear.messages_out", "counter"],
  ["fluxrig.gear.errors", "counter"],
  ["fluxrig.telemetry.records_sent", "counter"],
  ["fluxrig.telemetry.spool_bytes", "gauge"],
] as const;
/** Every rack reports every metric every 30 s: 60k rows an hour. */
const METRIC_ROWS_PER_HOUR = 50 * METRICS.length * 120;
const metricRows: RowsSql = (from, to, hour) => `SELECT
  epoch_ms(${hour} + ((i % ${METRIC_ROWS_PER_HOUR}) // 500) * 30000 + (i % 500) * 10)::TIMESTAMP AS ts,
  [${METRICS.map(([name]) => sqlString(name)).join(", ")}][i % 10 + 1] AS name,
  md5('rack-' || ((i % 500) // 10))::UUID AS entity_id,
  'rack-sfo-' || ((i % 500) // 10) AS entity_name,
  ([${METRICS.map(([, type]) => sqlString(type)).join(", ")}][i % 10 + 1])::${ENUM("metrics", "type")} AS type,
  (hash(i) % 10000) / 100.0 AS "value",
  ('{"gear":"gear-' || (hash(i * 3) % 4) || '"}')::JSON AS labels,
  md5('metric-' || i)::UUID AS record_id
FROM range(${from}, ${to}) r(i)`;

/** Traces of four spans (a root, two children, a grandchild); 20,800 traces an hour. */
const TRACES_PER_HOUR = 20_800;
const traceRows: RowsSql = (from, to, hour) => `SELECT
  epoch_ms(${hour} + ((i // 4) % ${TRACES_PER_HOUR}) * ${HOUR} // ${TRACES_PER_HOUR} + (i % 4) * 2)::TIMESTAMP AS ts,
  md5('trace-' || (i // 4)) AS trace_id,
  substr(md5('span-' || i), 1, 16) AS span_id,
  CASE i % 4 WHEN 0 THEN NULL WHEN 3 THEN substr(md5('span-' || (i - 1)), 1, 16)
    ELSE substr(md5('span-' || (i - i % 4)), 1, 16) END AS parent_span_id,
  CASE WHEN hash(i) % 3 = 0 THEN NULL ELSE md5('flux-' || (i // 4))::UUID END AS flux_id,
  md5('rack-' || (hash(i // 4) % 50))::UUID AS entity_id,
  'rack-sfo-' || (hash(i // 4) % 50) AS entity_name,
  ['gear.route', 'gear.iso8583.decode', 'gear.hsm.verify', 'gear.switch.send'][i % 4 + 1] AS span_name,
  ((hash(i) % 5000) / (10.0 * (1 + i % 4)))::FLOAT AS duration_ms,
  (CASE WHEN hash(i // 4) % 50 = 0 THEN 'error' ELSE 'ok' END)::${ENUM("traces", "status")} AS status,
  ('{"gear_id":"gear-' || (i % 4) || '"}')::JSON AS attributes,
  md5('span-record-' || i)::UUID AS record_id
FROM range(${from}, ${to}) r(i)`;

/** The trace whose root starts the 13th of the traces' 24 hours: a lookup reads 12 hours back to it. */
export const MIDDLE_TRACE_ID = createHash("md5")
  .update(`trace-${12 * TRACES_PER_HOUR}`)
  .digest("hex");

/** A written file with its row count and time range, read back from it (ingest's object metadata). */
async function storedFile(native: DuckDBConnection, key: string, path: string): Promise<StoredFile> {
  // Metrics have no flux_id column: their objects hold no flux, as ingest's metadata says.
  const columns = await native.runAndReadAll(
    `SELECT count(*)::INTEGER AS n FROM parquet_schema(${sqlString(path)}) WHERE name = 'flux_id'`,
  );
  const flux =
    Number(columns.getRowObjectsJS()[0]?.n) > 0
      ? "min(flux_id::VARCHAR) AS flux_min, max(flux_id::VARCHAR) AS flux_max"
      : "NULL AS flux_min, NULL AS flux_max";
  const read = await native.runAndReadAll(
    `SELECT count(*)::INTEGER AS n, epoch_ms(min(ts)) AS lo, epoch_ms(max(ts)) AS hi, ${flux}
       FROM ${sqlString(path)}`,
  );
  const [row] = read.getRowObjectsJS() as {
    n: number;
    lo: bigint;
    hi: bigint;
    flux_min: string | null;
    flux_max: string | null;
  }[];
  return {
    key,
    path,
    rows: row?.n ?? 0,
    tsMin: Number(row?.lo),
    tsMax: Number(row?.hi),
    flux: { min: row?.flux_min ?? null, max: row?.flux_max ?? null },
  };
}

interface KindPlan {
  kind: TelemetryKind;
  hours: number;
  rowsPerHour: number;
  objectsPerHour: number;
  sql: RowsSql;
}

/**
 * Writes the tree under `dir` (keys as paths) for the hours before `end` and returns its files.
 *
 * @example const files = await writeTree(native, dir, end, { logRows: 10_000_000 });
 */
export async function writeTree(
  native: DuckDBConnection,
  dir: string,
  end: number,
  options: { logRows: number },
): Promise<StoredFile[]> {
  const logObjects = Math.max(1, Math.round(options.logRows / 24 / LOG_ROWS_PER_OBJECT));
  const plans: KindPlan[] = [
    {
      kind: "logs",
      hours: 24,
      rowsPerHour: LOG_ROWS_PER_OBJECT * logObjects,
      objectsPerHour: logObjects,
      sql: logRows,
    },
    { kind: "metrics", hours: 24 * 7, rowsPerHour: METRIC_ROWS_PER_HOUR, objectsPerHour: 2, sql: metricRows },
    { kind: "traces", hours: 24, rowsPerHour: TRACES_PER_HOUR * 4, objectsPerHour: 2, sql: traceRows },
  ];
  const files: StoredFile[] = [];
  for (const plan of plans) {
    const perObject = plan.rowsPerHour / plan.objectsPerHour;
    for (let h = 0; h < plan.hours; h++) {
      const hour = end - (plan.hours - h) * HOUR;
      for (let o = 0; o < plan.objectsPerHour; o++) {
        const from = h * plan.rowsPerHour + o * perObject;
        const key = telemetryObjectKey(plan.kind, hour, { partitionBy: "hour", format: "parquet" });
        const path = join(dir, key);
        await mkdir(dirname(path), { recursive: true });
        await native.run(
          `COPY (${plan.sql(from, from + perObject, hour, plan.rowsPerHour)}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        files.push(await storedFile(native, key, path));
      }
    }
    const described = await native.runAndReadAll(
      `DESCRIBE SELECT * FROM ${sqlString(files.at(-1)?.path ?? "")}`,
    );
    const names = described.getRowObjectsJS().map((column) => column.column_name);
    if (names.join() !== TELEMETRY_COLUMNS[plan.kind].map((column) => column.name).join()) {
      throw new Error(`${plan.kind}: columns ${names.join()} are not the stored schema's`);
    }
  }
  return files;
}

/**
 * The compaction benchmark's tree: the last `hours` (24) hours of logs (`logRows` a day, the same rows as
 * {@link writeTree}'s), of metrics (60k rows an hour) and of spans (83,200 an hour), each hour cut by time into one object per
 * `flushSeconds`, as a bridge flushing that often writes them: the small objects compaction merges. `kinds`
 * (all three) chooses which are written, so a reproduction can write one kind's hours alone.
 *
 * @example const files = await writeFlushTree(native, dir, end, { logRows: 1_000_000, flushSeconds: 10 });
 */
export async function writeFlushTree(
  native: DuckDBConnection,
  dir: string,
  end: number,
  options: { logRows: number; flushSeconds: number; kinds?: readonly TelemetryKind[]; hours?: number },
): Promise<StoredFile[]> {
  const flushes = Math.max(1, Math.round(3_600 / options.flushSeconds));
  const hours = options.hours ?? 24;
  const plans: { kind: TelemetryKind; rowsPerHour: number; sql: RowsSql }[] = [
    { kind: "logs", rowsPerHour: Math.max(flushes, Math.round(options.logRows / 24)), sql: logRows },
    { kind: "metrics", rowsPerHour: METRIC_ROWS_PER_HOUR, sql: metricRows },
    { kind: "traces", rowsPerHour: TRACES_PER_HOUR * 4, sql: traceRows },
  ];
  const files: StoredFile[] = [];
  for (const plan of plans.filter(({ kind }) => options.kinds?.includes(kind) ?? true)) {
    for (let h = 0; h < hours; h++) {
      const hour = end - (hours - h) * HOUR;
      // Every kind's rows run in time order within an hour: a slice of indexes is a slice of time.
      for (let o = 0; o < flushes; o++) {
        const from = h * plan.rowsPerHour + Math.floor((o * plan.rowsPerHour) / flushes);
        const to = h * plan.rowsPerHour + Math.floor(((o + 1) * plan.rowsPerHour) / flushes);
        if (to <= from) continue;
        const key = telemetryObjectKey(plan.kind, hour, { partitionBy: "hour", format: "parquet" });
        const path = join(dir, key);
        await mkdir(dirname(path), { recursive: true });
        await native.run(
          `COPY (${plan.sql(from, to, hour, plan.rowsPerHour)}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        files.push(await storedFile(native, key, path));
      }
    }
  }
  return files;
}

/** Messages: fluxes of five hops (ingress, decode, route, HSM, egress), as many per object as logs. */
const HOPS = ["iso-in", "decode", "router", "hsm", "switch-out"];
/** Rows of a journal object by default: about one flush, as logs. */
const FLUSH_ROWS = 46_300;
export const MESSAGES_SPEC = "visa-v1";
const messageEnum = (name: string) =>
  duckDbType(MESSAGE_COLUMNS.find((column) => column.name === name)?.type ?? "VARCHAR");

/**
 * Rows `from` to `to` of the journal, `perHour` rows an hour: flux `i // 5` starts at its slot in the hour
 * and its hops follow 40 ms apart; its id is a UUID v7 naming that start (as a rack makes it), 50 racks,
 * one flux in 50 failing at the HSM hop, a 48-byte raw_msg, and visa-v1's promoted fields unless generic.
 */
function messageRows(from: number, to: number, hour: number, perHour: number, generic: boolean): string {
  const fluxes = perHour / HOPS.length;
  return `SELECT
  epoch_ms(t0 + hop * 40)::TIMESTAMP AS ts,
  md5('trace-' || f) AS trace_id,
  (substr(x, 1, 8) || '-' || substr(x, 9, 4) || '-7' || substr(r, 1, 3) || '-8' || substr(r, 4, 3) || '-' || substr(r, 7, 12))::UUID AS flux_id,
  md5('rack-' || (hash(f) % 50))::UUID AS entity_id,
  'rack-sfo-' || (hash(f) % 50) AS entity_name,
  CASE WHEN hop = 0 THEN NULL ELSE [${HOPS.map(sqlString).join(", ")}][hop] END AS src_gear_id,
  CASE WHEN hop = 4 THEN NULL ELSE [${HOPS.map(sqlString).join(", ")}][hop + 1] END AS dst_gear_id,
  CASE WHEN hop < 3 THEN '0100' ELSE '0110' END AS msg_type,
  (CASE hop WHEN 0 THEN 'inbound' WHEN 4 THEN 'outbound' ELSE 'internal' END)::${messageEnum("direction")} AS direction,
  (CASE WHEN hop = 3 AND hash(f * 11) % 50 = 0 THEN 'error' ELSE 'ok' END)::${messageEnum("status")} AS status,
  unhex(md5('raw-' || i) || md5('raw2-' || i) || md5('raw3-' || i)) AS raw_msg,
  ${
    generic
      ? "NULL::JSON"
      : `('{"pan":"411111******' || lpad((hash(f) % 10000)::VARCHAR, 4, '0') || '","amount":' || (hash(f * 7) % 100000) || ',"currency":"' || ['EUR', 'USD', 'CHF', 'GBP'][(hash(f * 3) % 4)::BIGINT + 1] || '","mcc":"' || (5411 + hash(f) % 7) || '"}')::JSON`
  } AS promoted,
  md5('msg-record-' || i)::UUID AS record_id
FROM (SELECT i, i // 5 AS f, i % 5 AS hop, ${hour} + ((i // 5) % ${fluxes}) * ${HOUR} // ${fluxes} AS t0,
  lpad(lower(hex(${hour} + ((i // 5) % ${fluxes}) * ${HOUR} // ${fluxes})), 12, '0') AS x, md5('flux-' || (i // 5)) AS r
  FROM range(${from}, ${to}) r(i))`;
}

/** A flux of the journal written by {@link writeMessages}: its id, its trace, and the time its id names. */
export interface BenchFlux {
  fluxId: string;
  traceId: string;
  at: number;
}

/**
 * Writes `rows` journal records over the 24 hourly partitions before `end`, `rowsPerObject` (46,300) an object (one object per hour
 * (the last) under messages/generic/, the rest under messages/fluxSpec/visa-v1/) and returns the files and the flux
 * that starts 22 minutes into the 13th hour (a lookup then finds it 12 hours back).
 *
 * @example const { files, flux } = await writeMessages(native, dir, end, { rows: 10_000_000 });
 */
export async function writeMessages(
  native: DuckDBConnection,
  dir: string,
  end: number,
  options: { rows: number; rowsPerObject?: number },
): Promise<{ files: StoredFile[]; flux: BenchFlux }> {
  const perObject = options.rowsPerObject ?? FLUSH_ROWS;
  const objectsPerHour = Math.max(1, Math.round(options.rows / 24 / perObject));
  const perHour = perObject * objectsPerHour;
  const files: StoredFile[] = [];
  for (let h = 0; h < 24; h++) {
    const hour = end - (24 - h) * HOUR;
    for (let o = 0; o < objectsPerHour; o++) {
      const generic = objectsPerHour > 1 && o === objectsPerHour - 1;
      const from = h * perHour + o * perObject;
      const key = messagesObjectKey(generic ? null : MESSAGES_SPEC, hour, {
        partitionBy: "hour",
        format: "parquet",
      });
      const path = join(dir, key);
      await mkdir(dirname(path), { recursive: true });
      const sql = messageRows(from, from + perObject, hour, perHour, generic);
      await native.run(`COPY (${sql}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`);
      files.push(await storedFile(native, key, path));
    }
  }
  const described = await native.runAndReadAll(`DESCRIBE SELECT * FROM ${sqlString(files[0]?.path ?? "")}`);
  const names = described.getRowObjectsJS().map((column) => column.column_name);
  if (names.join() !== MESSAGE_COLUMNS.map((column) => column.name).join()) {
    throw new Error(`messages: columns ${names.join()} are not the stored schema's`);
  }
  // 22 minutes into the hour, as a typical flux (one in its first minute also reads the previous hour).
  const f = 12 * (perHour / 5) + Math.floor((perHour / 5) * 0.37);
  const first = files[12 * objectsPerHour + Math.floor(((f % (perHour / 5)) * 5) / perObject)]?.path ?? "";
  const read = await native.runAndReadAll(
    `SELECT flux_id::VARCHAR AS flux_id, trace_id, epoch_ms(ts) AS at FROM ${sqlString(first)} WHERE trace_id = md5('trace-${f}') AND src_gear_id IS NULL`,
  );
  const [row] = read.getRowObjectsJS() as { flux_id: string; trace_id: string; at: bigint }[];
  if (!row) throw new Error(`messages: flux ${f} is not in ${first}`);
  return { files, flux: { fluxId: row.flux_id, traceId: row.trace_id, at: Number(row.at) } };
}
