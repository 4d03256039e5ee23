import { METRICS_ROLLUP } from "../../../../shared/storage/object-keys.ts";
import { METRIC_ROLLUP_COLUMNS } from "../../../../shared/storage/parquet-schema.ts";
import { getDuckDb } from "../duckdb.ts";
import { parquetCopySql, type TelemetryCompression, writeParquetFrom } from "../parquet-writer.ts";
import { markFailed, sidecarWork } from "../partition-sidecars.ts";
import { metricPointsSql, PARTIAL_AGGREGATES, POINT_AGGREGATES } from "../query/metrics.ts";
import { recordShare } from "../query/sql.ts";
import {
  eachBatch,
  guard,
  liveSources,
  MergeMemoryError,
  type Ranked,
  uniqueName,
} from "./source-batches.ts";

/**
 * Rows one pass holds (by record id hash). A rollup's pass carries more columns than the query's (entity id
 * and name, labels), and an hour of 60,000 bench metrics in one pass needed more than the 48 MB memory limit;
 * a pass that does not fit is tried again once as four; past that the failure is recorded (markFailed) and
 * not tried again until the partition's objects change.
 */
const ROWS_PER_PASS = 40_000;
const MEMORY_RETRIES = 1;

/** What rolling a folder up did. */
export interface RollupReport {
  /** Whether a rollup was written (false: the one stored is current, or there is nothing to roll up). */
  written: boolean;
  /** Rows of the rollup written (per metric, entity, labels and minute). */
  rows: number;
  /** Why none could be made (the partition is then read from its rows). */
  error?: string;
}

/**
 * Rolls up one metrics partition folder (`telemetry/metrics/2026/11/27/09/`): its live objects, each record
 * once, into one row per metric, entity, labels and minute with count, sum, min, max and the latest value
 * (`telemetry/metrics_1m/…/metrics_1m.parquet`), unless the rollup stored was made from the same objects.
 * Its metadata names them (partition-sidecars.ts), so readers use it only while it stands for what they list.
 * Passes by record id hash bound the engine's memory as the query's do; the compactor calls it once a
 * partition is closed.
 *
 * @example await rollUpMetrics(env.TELEMETRY, "telemetry/metrics/2026/11/27/09/", "zstd");
 */
export async function rollUpMetrics(
  bucket: R2Bucket,
  folder: string,
  compression: TelemetryCompression,
): Promise<RollupReport> {
  const work = await sidecarWork(bucket, METRICS_ROLLUP, folder);
  if (!work) return { written: false, rows: 0 };
  const { key, live, sources } = work;
  const ranked = liveSources(live);
  const rows = ranked.reduce((sum, { source }) => sum + source.rows, 0);
  for (let attempt = 0, passes = Math.max(1, Math.ceil(rows / ROWS_PER_PASS)); ; attempt++, passes *= 4) {
    try {
      const written = await rollUp(bucket, ranked, passes, compression);
      await bucket.put(key, written.bytes, {
        customMetadata: { sources, records: String(written.rows), objects: String(live.length) },
      });
      return { written: true, rows: written.rows };
    } catch (error) {
      if (!(error instanceof MergeMemoryError) || attempt === MEMORY_RETRIES) {
        return { written: false, rows: 0, error: await markFailed(bucket, work, error) };
      }
    }
  }
}

/** The rollup's Parquet bytes, made in `passes` passes by record id hash. */
async function rollUp(
  bucket: R2Bucket,
  ranked: Ranked[],
  passes: number,
  compression: TelemetryCompression,
): Promise<{ bytes: Uint8Array; rows: number }> {
  const db = await getDuckDb();
  const partial = uniqueName("rollup_");
  const raw = `${partial}_raw`;
  const keys = "name, type, entity_id, entity_name, labels";
  try {
    // entity_id as text until the file is written: DuckDB-wasm's any_value() of a UUID in a GROUP BY grew the
    // engine's memory to 1.9 GB for 60,000 rows (its memory_limit does not see it); of a VARCHAR, not at all.
    guard(db, () =>
      db.query(`CREATE TABLE ${partial} (ts TIMESTAMP, name VARCHAR, type VARCHAR, entity_id VARCHAR,
        entity_name VARCHAR, labels VARCHAR, "count" BIGINT, "sum" DOUBLE, "min" DOUBLE, "max" DOUBLE,
        "last" DOUBLE, last_key VARCHAR)`),
    );
    for (let pass = 0; pass < passes; pass++) {
      guard(db, () =>
        db.query(`CREATE TABLE ${raw} (record_id UUID, name VARCHAR, type VARCHAR, entity_id VARCHAR,
          entity_name VARCHAR, labels VARCHAR, ts TIMESTAMP, "value" DOUBLE)`),
      );
      const share = passes > 1 ? ` WHERE ${recordShare(passes, pass)}` : "";
      await eachBatch(db, bucket, ranked, { bytesRead: 0 }, (name) =>
        db.query(`INSERT INTO ${raw} SELECT record_id, name, type::VARCHAR, entity_id::VARCHAR, entity_name, labels, ts,
          "value" FROM read_parquet('${name}')${share}`),
      );
      const points = metricPointsSql(raw, "true", [
        ["entity_id", "entity_id"],
        ["entity_name", "entity_name"],
        ["labels", "labels"],
      ]);
      guard(db, () => {
        db.query(`INSERT INTO ${partial} SELECT date_trunc('minute', ts) AS minute, ${keys}, ${POINT_AGGREGATES}
          FROM (${points}) GROUP BY minute, ${keys}`);
        db.query(`DROP TABLE ${raw}`);
      });
    }
    return guard(db, () => {
      const [count] = db.query(
        `SELECT count(*)::INTEGER AS n FROM (SELECT DISTINCT ts, ${keys} FROM ${partial})`,
      );
      const bytes = writeParquetFrom(db, METRIC_ROLLUP_COLUMNS, (path) =>
        parquetCopySql(
          `SELECT ts, name, entity_id::UUID AS entity_id, entity_name, type, labels, ${PARTIAL_AGGREGATES} FROM ${partial}
           GROUP BY ts, ${keys} ORDER BY ts, name, entity_name`,
          path,
          { compression },
        ),
      );
      return { bytes, rows: Number(count?.n ?? 0) };
    });
  } finally {
    for (const table of [raw, partial]) {
      try {
        db.query(`DROP TABLE IF EXISTS ${table}`);
      } catch {
        // A trap left the engine to be started anew: its tables went with it.
      }
    }
  }
}
