import type { TelemetryKind } from "../telemetry/records.ts";

/**
 * Where stored files go, as the reference's tree lays them out (`telemetry/…`, `messages/…`): one definition
 * for the mixer's R2 objects and the rack's local message files (`[observability.otlp.messages]`).
 */

/** `observability.embedded.storage.partition_by`. */
export type PartitionBy = "hour" | "day";

const PARTITION_MS: Record<PartitionBy, number> = { hour: 3_600_000, day: 86_400_000 };

/**
 * The start (epoch ms, UTC) of the partition that holds `timeMs`.
 *
 * @example partitionStart(Date.UTC(2025, 11, 21, 14, 59), "hour") === Date.UTC(2025, 11, 21, 14)
 */
export function partitionStart(timeMs: number, partitionBy: PartitionBy): number {
  const span = PARTITION_MS[partitionBy];
  return Math.floor(timeMs / span) * span;
}

/**
 * Splits records by the partition of their own `ts` (event time, not arrival time), keyed by partition start;
 * each group keeps the records' order.
 *
 * @example
 * for (const [start, group] of groupByPartition(records, "hour")) {
 *   await bucket.put(telemetryObjectKey("logs", start, { partitionBy: "hour", ...storage }), await write(group));
 * }
 */
export function groupByPartition<R extends { ts: number }>(
  records: readonly R[],
  partitionBy: PartitionBy,
): Map<number, R[]> {
  const groups = new Map<number, R[]>();
  for (const record of records) {
    const start = partitionStart(record.ts, partitionBy);
    const group = groups.get(start);
    if (group) group.push(record);
    else groups.set(start, [record]);
  }
  return groups;
}

/** `observability.embedded.storage.format`. */
export type StorageFormat = "parquet" | "json";

/**
 * Splits journal records by their spec, the folder they are stored under (`null`: `messages/generic/`); each
 * group keeps the records' order.
 *
 * @example for (const [spec, group] of groupBySpec(records)) write(messagesRoot(spec), group);
 */
export function groupBySpec<R extends { spec: string | null }>(
  records: readonly R[],
): Map<string | null, R[]> {
  const groups = new Map<string | null, R[]>();
  for (const record of records) {
    const group = groups.get(record.spec);
    if (group) group.push(record);
    else groups.set(record.spec, [record]);
  }
  return groups;
}

const EXTENSION: Record<StorageFormat, string> = { parquet: ".parquet", json: ".ndjson" };

export interface ObjectKeyOptions {
  format: StorageFormat;
  partitionBy: PartitionBy;
  /** Makes the name unique; defaults to a new {@link telemetryFileId}. */
  fileId?: string;
}

/**
 * The object key of one stored telemetry file, laid out as the reference's tree:
 * `telemetry/{kind}/YYYY/MM/DD/HH/{kind}_{fileId}.parquet` (no `HH/` when partitioned by day), UTC.
 * The reference numbers files `logs_001`; a counter would need coordination between flushes and writers, so
 * the number is replaced by a sortable unique id, which keeps names in write order within a partition.
 *
 * @example
 * telemetryObjectKey("logs", Date.UTC(2025, 11, 21, 14, 5), {
 *   partitionBy: "hour", format: "parquet", fileId: "01KD0KBFR0ABCDEFGHJKMNPQRS",
 * }) // "telemetry/logs/2025/12/21/14/logs_01KD0KBFR0ABCDEFGHJKMNPQRS.parquet"
 */
export function telemetryObjectKey(kind: TelemetryKind, timeMs: number, options: ObjectKeyOptions): string {
  return objectKey(telemetryRoot(kind), kind, timeMs, options);
}

/**
 * The object key of one stored file of journal records: `messages/generic/…/fluxmsg_{fileId}.parquet` without
 * a spec, `messages/fluxSpec/{spec}/…/{stem}_{fileId}.parquet` with one, where the stem is the spec id without
 * its version suffix (`visa-v1` → `visa`, as the reference's `visa_001.parquet`).
 *
 * @example
 * messagesObjectKey("visa-v1", Date.UTC(2025, 11, 21, 14, 5), { partitionBy: "hour", format: "parquet", fileId: "01KD…" })
 * // "messages/fluxSpec/visa-v1/2025/12/21/14/visa_01KD….parquet"
 */
export function messagesObjectKey(spec: string | null, timeMs: number, options: ObjectKeyOptions): string {
  const stem = spec === null ? "fluxmsg" : spec.replace(/[-_.]?v\d+$/i, "") || spec;
  return objectKey(messagesRoot(spec), stem, timeMs, options);
}

/** @example telemetryRoot("logs") // "telemetry/logs" */
export function telemetryRoot(kind: TelemetryKind): string {
  return `telemetry/${kind}`;
}

/** @example messagesRoot(null) // "messages/generic"; messagesRoot("visa-v1") // "messages/fluxSpec/visa-v1" */
export function messagesRoot(spec: string | null): string {
  return spec === null ? "messages/generic" : `messages/fluxSpec/${spec}`;
}

function objectKey(root: string, stem: string, timeMs: number, options: ObjectKeyOptions): string {
  const folder = partitionFolder(root, timeMs, options.partitionBy);
  return `${folder}${stem}_${options.fileId ?? telemetryFileId()}${EXTENSION[options.format]}`;
}

/**
 * The folder (an object key prefix, ending in `/`) of the partition under `root` that holds `timeMs`, UTC.
 *
 * @example partitionFolder("telemetry/logs", Date.UTC(2025, 11, 21, 14, 5), "hour") // "telemetry/logs/2025/12/21/14/"
 */
export function partitionFolder(root: string, timeMs: number, partitionBy: PartitionBy): string {
  const start = new Date(partitionStart(timeMs, partitionBy));
  const two = (n: number) => String(n).padStart(2, "0");
  const day = `${start.getUTCFullYear()}/${two(start.getUTCMonth() + 1)}/${two(start.getUTCDate())}`;
  return `${root}/${partitionBy === "hour" ? `${day}/${two(start.getUTCHours())}` : day}/`;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * A ULID: 10 base-32 digits of the time in ms, then 80 random bits. Sorts by creation time and cannot
 * collide between flushes or between mixers without any shared counter.
 *
 * @example telemetryFileId(Date.UTC(2025, 11, 21, 14)) // "01KD0KBFR0…" (26 characters)
 */
export function telemetryFileId(
  nowMs: number = Date.now(),
  random: Uint8Array = crypto.getRandomValues(new Uint8Array(10)),
): string {
  let time = "";
  for (let rest = nowMs, i = 0; i < 10; i++, rest = Math.floor(rest / 32)) time = CROCKFORD[rest % 32] + time;
  let bits = 0;
  let pending = 0;
  let tail = "";
  for (const byte of random) {
    bits = (bits << 8) | byte;
    pending += 8;
    while (pending >= 5) {
      pending -= 5;
      tail += CROCKFORD[(bits >> pending) & 31];
    }
    bits &= (1 << pending) - 1;
  }
  return time + tail;
}
