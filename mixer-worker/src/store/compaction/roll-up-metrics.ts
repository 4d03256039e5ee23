import { METRICS_HOUR_ROLLUP, METRICS_ROLLUP } from "../../../../shared/storage/object-keys.ts";
import { METRIC_ROLLUP_COLUMNS } from "../../../../shared/storage/parquet-schema.ts";
import { getDuckDb } from "../duckdb.ts";
import { parquetCopySql, type TelemetryCompression, writeParquetFrom } from "../parquet-writer.ts";
import { markFailed, type SidecarWork, sidecarWork } from "../partition-sidecars.ts";
import { metricPointsSql, PARTIAL_AGGREGATES, POINT_AGGREGATES } from "../query/metrics.ts";
import { census, overlapping, type Slice, slicesOf, sliceWhere, winnersOnly } from "./census.ts";
import {
  eachBatch,
  guard,
  liveSources,
  MergeMemoryError,
  type Ranked,
  uniqueName,
} from "./source-batches.ts";

/**
 * Rows one pass holds. Passes are slices of whole minutes, so a pass's groups are whole and its rows final:
 * the rollup is the passes' rows in time order, written without a GROUP BY over all of them. That final
 * GROUP BY (passes by record id hash, each minute's groups split across them) is what failed the 48 MB limit
 * whatever the passes on hours of many series (bench:query's: 60,000 points, 2,000 series, 52,587 rows of
 * rollup; 0.9.1 ran out at 46.7 of 48 MB merging the passes' 56,232 rows, while rows from our writer and from
 * native DuckDB failed alike). A pass that does not fit is tried again once with a quarter of the rows; past
 * that the failure is recorded (markFailed) and not tried again until the partition's objects change.
 */
const ROWS_PER_PASS = 40_000;
const MEMORY_RETRIES = 1;

/** What rolling a folder up did. */
export interface RollupReport {
  /** Whether a rollup was written (false: the ones stored are current, or there is nothing to roll up). */
  written: boolean;
  /** Rows of the minute rollup written (per metric, entity, labels and minute). */
  rows: number;
  /** Rows of the hour rollup written (per metric, entity, labels and hour). */
  hourRows: number;
  /** Why one could not be made (the partition is then read from the minute rollup, or from its rows). */
  error?: string;
}

/** A rollup's stored object. */
interface Written {
  bytes: Uint8Array;
  rows: number;
}

/**
 * Rolls up one metrics partition folder (`telemetry/metrics/2026/11/27/09/`): its live objects, each record
 * once, into one row per metric, entity, labels and minute with count, sum, min, max and the latest value
 * (`telemetry/metrics_1m/…/metrics_1m.parquet`), then those rows into one per hour (`telemetry/metrics_1h/…`),
 * unless both stored were made from the same objects. Their metadata names them (partition-sidecars.ts), so
 * readers use them only while they stand for what they list. Passes by slices of minutes bound the engine's
 * memory; the compactor calls it once a partition is closed.
 *
 * @example await rollUpMetrics(env.TELEMETRY, "telemetry/metrics/2026/11/27/09/", "zstd");
 */
export async function rollUpMetrics(
  bucket: R2Bucket,
  folder: string,
  compression: TelemetryCompression,
): Promise<RollupReport> {
  const works = await sidecarWork(bucket, [METRICS_ROLLUP, METRICS_HOUR_ROLLUP], folder);
  if (!works) return { written: false, rows: 0, hourRows: 0 };
  const [minute, hour] = works;
  const put = (work: SidecarWork, written: Written) =>
    bucket.put(work.key, written.bytes, {
      customMetadata: {
        sources: work.sources,
        records: String(written.rows),
        objects: String(work.live.length),
      },
    });
  for (let attempt = 0, passRows = ROWS_PER_PASS; ; attempt++, passRows /= 4) {
    try {
      const written = await rollUp(bucket, liveSources(minute.live), passRows, compression);
      await put(minute, written.minute);
      // The minute rollup stands without the hour's: hours are then read from it.
      if (written.hour instanceof Error) {
        const error = `hour rollup: ${await markFailed(bucket, hour, written.hour)}`;
        return { written: true, rows: written.minute.rows, hourRows: 0, error };
      }
      await put(hour, written.hour);
      return { written: true, rows: written.minute.rows, hourRows: written.hour.rows };
    } catch (error) {
      if (!(error instanceof MergeMemoryError) || attempt === MEMORY_RETRIES) {
        await markFailed(bucket, hour, error);
        return { written: false, rows: 0, hourRows: 0, error: await markFailed(bucket, minute, error) };
      }
    }
  }
}

/**
 * The rollup's Parquet bytes, made in passes of whole minutes holding `passRows` rows at most (a busier minute is
 * a pass of its own). Over that many rows a census (census.ts, as merges take one) finds the minutes' rows and
 * the one copy to keep of each record id stored with several times, which could fall in two passes.
 */
async function rollUp(
  bucket: R2Bucket,
  ranked: Ranked[],
  passRows: number,
  compression: TelemetryCompression,
): Promise<{ minute: Written; hour: Written | Error }> {
  const db = await getDuckDb();
  const partial = uniqueName("rollup_");
  const [raw, winners] = [`${partial}_raw`, `${partial}_winners`];
  const keys = "name, type, entity_id, entity_name, labels";
  const estimated = ranked.reduce((sum, { source }) => sum + source.rows, 0);
  try {
    let slices: Slice[] = [{ lo: undefined, hi: undefined }];
    let kept = raw;
    if (estimated > passRows) {
      guard(db, () => db.query(`CREATE TABLE ${winners} (record_id UUID, t BIGINT, r INTEGER)`));
      const seconds = await census(db, bucket, ranked, winners, partial, estimated, {
        rowsIn: 0,
        bytesRead: 0,
      });
      slices = slicesOf(byMinute(seconds), passRows);
      kept = `(SELECT s.* FROM ${raw} s${winnersOnly(winners)})`;
    }
    // entity_id as text until a pass's groups are made: DuckDB-wasm's any_value() of a UUID in a GROUP BY grew
    // the engine's memory to 1.9 GB for 60,000 rows (its memory_limit does not see it); of a VARCHAR, not at
    // all. The table every pass adds to holds it as a UUID (16 bytes, not 36 characters).
    guard(db, () =>
      db.query(`CREATE TABLE ${partial} (ts TIMESTAMP, name VARCHAR, entity_id UUID, entity_name VARCHAR,
        type VARCHAR, labels VARCHAR, "count" BIGINT, "sum" DOUBLE, "min" DOUBLE, "max" DOUBLE, "last" DOUBLE,
        last_key VARCHAR)`),
    );
    for (const slice of slices) {
      guard(db, () =>
        db.query(`CREATE TABLE ${raw} (record_id UUID, name VARCHAR, type VARCHAR, entity_id VARCHAR,
          entity_name VARCHAR, labels VARCHAR, ts TIMESTAMP, "value" DOUBLE, _rank INTEGER)`),
      );
      await eachBatch(db, bucket, overlapping(ranked, slice), { bytesRead: 0 }, (name, rank) =>
        db.query(`INSERT INTO ${raw} SELECT record_id, name, type::VARCHAR, entity_id::VARCHAR, entity_name, labels, ts,
          "value", ${rank} FROM read_parquet('${name}')${sliceWhere(slice)}`),
      );
      const points = metricPointsSql(kept, "true", [
        ["entity_id", "entity_id"],
        ["entity_name", "entity_name"],
        ["labels", "labels"],
      ]);
      guard(db, () => {
        db.query(`INSERT INTO ${partial} SELECT minute, name, entity_id::UUID, entity_name, type, labels, "count", "sum",
          "min", "max", "last", last_key FROM (SELECT date_trunc('minute', ts) AS minute, ${keys}, ${POINT_AGGREGATES}
          FROM (${points}) GROUP BY minute, ${keys}) ORDER BY minute, name, entity_name`);
        db.query(`DROP TABLE ${raw}`);
      });
    }
    const write = (select: string) => {
      const [count] = db.query(`SELECT count(*)::INTEGER AS n FROM (${select})`);
      const bytes = writeParquetFrom(db, METRIC_ROLLUP_COLUMNS, (path) =>
        parquetCopySql(select, path, { compression }),
      );
      return { bytes, rows: Number(count?.n ?? 0) };
    };
    // The slices run in time order, each sorted: the table's order is the rollup's.
    const minute = guard(db, () => write(`SELECT * FROM ${partial}`));
    // The hour's rows from the minutes' (one group per series: small), whose aggregates add up as the points'.
    // A failure leaves the minute rollup standing.
    let hour: Written | Error;
    try {
      hour = guard(db, () => write(hourRowsSql(partial, keys)));
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) throw error;
      hour = error instanceof Error ? error : new Error(String(error));
    }
    return { minute, hour };
  } finally {
    for (const table of [raw, winners, partial]) {
      try {
        db.query(`DROP TABLE IF EXISTS ${table}`);
      } catch {
        // A trap left the engine to be started anew: its tables went with it.
      }
    }
  }
}

/** A census's rows per second as rows per minute (keyed by the minute's first second), for slices of minutes. */
function byMinute(seconds: Map<number, number>): Map<number, number> {
  const minutes = new Map<number, number>();
  for (const [second, n] of seconds) {
    const minute = Math.floor(second / 60) * 60;
    minutes.set(minute, (minutes.get(minute) ?? 0) + n);
  }
  return minutes;
}

/**
 * The hour rollup's rows from the minute rollup's (`partial`, grouped by `keys`), in the rollup's columns and
 * order. entity_id is grouped as text, as the minutes' passes do (a UUID in a GROUP BY grew duckdb-wasm's memory).
 */
function hourRowsSql(partial: string, keys: string): string {
  return `SELECT hour AS ts, name, entity_id::UUID AS entity_id, entity_name, type, labels, ${PARTIAL_AGGREGATES}
    FROM (SELECT date_trunc('hour', ts) AS hour, name, entity_id::VARCHAR AS entity_id, entity_name, type, labels,
      "count", "sum", "min", "max", "last", last_key FROM ${partial})
    GROUP BY hour, ${keys} ORDER BY hour, name, entity_name`;
}
