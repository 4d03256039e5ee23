import type { TelemetryKind } from "../telemetry/records.ts";
import { newFileId, ULID_PATTERN } from "./file-id.ts";

export { fileIdTime, newFileId } from "./file-id.ts";

/**
 * The stored tree's object keys, built and parsed in this one place: the mixer's R2 objects, the rack's local
 * message files (`[observability.otlp.messages]`) and the mixer's dead letters. The reference's tree:
 *
 *   telemetry/{traces,logs,metrics}/YYYY/MM/DD/HH/<kind>_<id>.parquet
 *   messages/generic/YYYY/MM/DD/HH/fluxmsg_<id>.parquet
 *   messages/fluxSpec/<spec>/YYYY/MM/DD/HH/<stem>_<id>.parquet
 *
 * (no `HH/` with `partition_by = "day"`, UTC, by each record's own time). Three kinds of name sit in a
 * partition folder: a flush object `<stem>_<ULID>.<ext>` (one write of ingest), a compacted object
 * `<stem>_<first>-<last>.<pass>.<i>of<n>.parquet` (part i of n of one compaction pass, which replaced the
 * Parquet flush objects whose ULIDs lie in `first…last`), and anything else (left alone by the mixer).
 */

/** `observability.embedded.storage.partition_by`. */
export type PartitionBy = "hour" | "day";

/** `observability.embedded.storage.format`. */
export type StorageFormat = "parquet" | "json";

const PARTITION_MS: Record<PartitionBy, number> = { hour: 3_600_000, day: 86_400_000 };

/** The top folders of the stored tree; everything the retention and files route look at is under them. */
export const STORED_TREES = ["telemetry/", "messages/"] as const;

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
  // Records come in runs of one partition: the map is looked up only where a run ends.
  let runStart = Number.NaN;
  let run: R[] = [];
  for (const record of records) {
    const start = partitionStart(record.ts, partitionBy);
    if (start !== runStart) {
      runStart = start;
      run = groups.get(start) ?? [];
      if (run.length === 0) groups.set(start, run);
    }
    run.push(record);
  }
  return groups;
}

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

const EXTENSION: Record<StorageFormat, string> = { parquet: "parquet", json: "ndjson" };

export interface ObjectKeyOptions {
  format: StorageFormat;
  partitionBy: PartitionBy;
  /** Makes the name unique; defaults to a new {@link newFileId}. */
  fileId?: string;
}

/**
 * The object key of one flush of telemetry, laid out as the reference's tree:
 * `telemetry/{kind}/YYYY/MM/DD/HH/{kind}_{fileId}.parquet` (no `HH/` when partitioned by day), UTC.
 * The reference numbers files `logs_001`; a counter would need coordination between flushes and writers, so
 * the number is replaced by a ULID, which keeps names in write order within a partition.
 *
 * @example
 * telemetryObjectKey("logs", Date.UTC(2025, 11, 21, 14, 5), {
 *   partitionBy: "hour", format: "parquet", fileId: "01KD0KBFR0ABCDEFGHJKMNPQRS",
 * }) // "telemetry/logs/2025/12/21/14/logs_01KD0KBFR0ABCDEFGHJKMNPQRS.parquet"
 */
export function telemetryObjectKey(kind: TelemetryKind, timeMs: number, options: ObjectKeyOptions): string {
  return flushKey(telemetryRoot(kind), kind, timeMs, options);
}

/**
 * The object key of one flush of journal records: `messages/generic/…/fluxmsg_{fileId}.parquet` without a
 * spec, `messages/fluxSpec/{spec}/…/{stem}_{fileId}.parquet` with one, where the stem is the spec id without
 * its version suffix (`visa-v1` → `visa`, as the reference's `visa_001.parquet`).
 *
 * @example
 * messagesObjectKey("visa-v1", Date.UTC(2025, 11, 21, 14, 5), { partitionBy: "hour", format: "parquet", fileId: "01KD…" })
 * // "messages/fluxSpec/visa-v1/2025/12/21/14/visa_01KD….parquet"
 */
export function messagesObjectKey(spec: string | null, timeMs: number, options: ObjectKeyOptions): string {
  const stem = spec === null ? "fluxmsg" : spec.replace(/[-_.]?v\d+$/i, "") || spec;
  return flushKey(messagesRoot(spec), stem, timeMs, options);
}

/** @example telemetryRoot("logs") // "telemetry/logs" */
export function telemetryRoot(kind: TelemetryKind): string {
  return `telemetry/${kind}`;
}

/**
 * Where the sidecars of a storage root lie: objects the compactor makes from a closed partition folder's rows
 * (metrics rollups, a trace id index), under a root of their own with the same partition folders, so that
 * retention takes them with the rows they were made from.
 */
export interface SidecarKind {
  /** The storage root of the rows (`telemetry/metrics`). */
  root: string;
  /** The sidecars' root (`telemetry/metrics_1m`). */
  sidecarRoot: string;
  /** The sidecar's name in its folder. */
  name: string;
}

/** Per-minute rollups of metrics: `telemetry/metrics_1m/…/metrics_1m.parquet`. */
export const METRICS_ROLLUP: SidecarKind = {
  root: "telemetry/metrics",
  sidecarRoot: "telemetry/metrics_1m",
  name: "metrics_1m.parquet",
};

/**
 * Per-hour rollups of metrics, derived from the minute ones (same columns): `telemetry/metrics_1h/…/metrics_1h.parquet`.
 * A fleet's series hold one point a minute or less, so a minute rollup is nearly as large as its rows; an
 * hour's is one row per series.
 */
export const METRICS_HOUR_ROLLUP: SidecarKind = {
  root: "telemetry/metrics",
  sidecarRoot: "telemetry/metrics_1h",
  name: "metrics_1h.parquet",
};

/** Which trace ids an hour of spans holds (a Bloom filter): `telemetry/traces_ids/…/trace_ids.bloom`. */
export const TRACE_INDEX: SidecarKind = {
  root: "telemetry/traces",
  sidecarRoot: "telemetry/traces_ids",
  name: "trace_ids.bloom",
};

/**
 * The key of a partition folder's sidecar.
 *
 * @example sidecarKey(METRICS_ROLLUP, "telemetry/metrics/2026/11/27/09/") // "telemetry/metrics_1m/2026/11/27/09/metrics_1m.parquet"
 */
export function sidecarKey(kind: SidecarKind, folder: string): string {
  return `${kind.sidecarRoot}${folder.slice(kind.root.length)}${kind.name}`;
}

/** @example messagesRoot(null) // "messages/generic"; messagesRoot("visa-v1") // "messages/fluxSpec/visa-v1" */
export function messagesRoot(spec: string | null): string {
  return spec === null ? "messages/generic" : `messages/fluxSpec/${spec}`;
}

/** The folder under which each spec's root lies (`messages/fluxSpec/<spec>`), as an R2 listing prefix. */
export const SPEC_ROOTS_PREFIX = "messages/fluxSpec/";

function flushKey(root: string, stem: string, timeMs: number, options: ObjectKeyOptions): string {
  const folder = partitionFolder(root, timeMs, options.partitionBy);
  return `${folder}${stem}_${options.fileId ?? newFileId()}.${EXTENSION[options.format]}`;
}

/** Which flush objects one compacted part replaces, and where it sits among its pass's parts. */
export interface CompactedName {
  /** The smallest and largest ULID of the flush objects the pass replaced (both inclusive). */
  first: string;
  last: string;
  /** The pass's own ULID: two passes over the same objects never mix their parts. */
  pass: string;
  /** 1-based; the pass wrote `parts` objects, which stand in only once all of them are stored. */
  part: number;
  parts: number;
}

/**
 * The key of one part of a compaction pass's output, in the partition folder of its sources.
 *
 * @example
 * compactedObjectKey("telemetry/logs/2025/12/21/14/", "logs", { first: "01KD…", last: "01KE…", pass: "01KF…", part: 1, parts: 2 })
 * // "telemetry/logs/2025/12/21/14/logs_01KD…-01KE….01KF….1of2.parquet"
 */
export function compactedObjectKey(folder: string, stem: string, name: CompactedName): string {
  return `${folder}${stem}_${name.first}-${name.last}.${name.pass}.${name.part}of${name.parts}.parquet`;
}

/**
 * Where the mixer keeps a dead-lettered message too large for NATS: `deadletter/YYYY/MM/DD/<ULID>.cbor`, by
 * the day it was refused (outside the stored tree: retention and queries never look there).
 *
 * @example deadLetterObjectKey(Date.UTC(2025, 11, 21, 14)) // "deadletter/2025/12/21/01KD0KBFR0….cbor"
 */
export function deadLetterObjectKey(nowMs: number, fileId: string = newFileId(nowMs)): string {
  return `${partitionFolder("deadletter", nowMs, "day")}${fileId}.cbor`;
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

/** Epoch ms a partition (or a key in it) covers: `start` inclusive, `end` exclusive. */
export interface PartitionSpan {
  start: number;
  end: number;
}

interface ParsedBase {
  key: string;
  /** The partition folder the object sits in, ending in `/` (`telemetry/logs/2025/12/21/14/`). */
  folder: string;
  /** The storage root above the partition folders (`telemetry/logs`, `messages/fluxSpec/visa-v1`). */
  root: string;
  span: PartitionSpan;
}

/** What a stored object's key says about it (see the module's comment for the three kinds). */
export type StoredKey =
  | (ParsedBase & { kind: "flush"; stem: string; id: string; format: StorageFormat })
  | (ParsedBase & { kind: "compacted"; stem: string } & CompactedName)
  | (ParsedBase & { kind: "other" });

const PARTITION =
  /^((telemetry\/[^/]+|messages\/generic|messages\/fluxSpec\/[^/]+)\/(\d{4})\/(\d{2})\/(\d{2})(?:\/(\d{2}))?\/)/;
const FLUSH_NAME = new RegExp(`^(.+)_(${ULID_PATTERN})\\.(parquet|ndjson)$`);
const COMPACTED_NAME = new RegExp(
  `^(.+)_(${ULID_PATTERN})-(${ULID_PATTERN})\\.(${ULID_PATTERN})\\.([1-9]\\d*)of([1-9]\\d*)\\.parquet$`,
);

/**
 * A partition folder, from a key or prefix that starts with one: its folder, root and span. Undefined for
 * anything outside the layout (retention and queries never touch those).
 *
 * @example partitionOf("telemetry/logs/2025/12/21/14/logs_001.parquet")?.span // 14:00 to 15:00 UTC
 */
export function partitionOf(keyOrPrefix: string): ParsedBase | undefined {
  const m = PARTITION.exec(keyOrPrefix);
  if (!m) return undefined;
  const [year, month, day, hour] = [m[3], m[4], m[5], m[6]].map((part) =>
    part === undefined ? undefined : Number(part),
  );
  const start = Date.UTC(year as number, (month as number) - 1, day as number, hour ?? 0);
  return {
    key: keyOrPrefix,
    folder: m[1] as string,
    root: m[2] as string,
    span: { start, end: start + (hour === undefined ? 86_400_000 : 3_600_000) },
  };
}

/**
 * The time span a stored object's partition covers, read from its key (or a folder prefix):
 * `telemetry/logs/2025/12/21/14/…` is the hour from 14:00 UTC; without the hour it is the whole day.
 *
 * @example partitionSpan("telemetry/logs/2025/12/21/14/logs_001.parquet")
 */
export function partitionSpan(keyOrPrefix: string): PartitionSpan | undefined {
  return partitionOf(keyOrPrefix)?.span;
}

/**
 * What a key says: its partition and whether it is a flush object, a compacted part, or other. Undefined
 * outside the partition layout.
 *
 * @example parseStoredKey("telemetry/logs/2025/12/21/14/logs_01KD0KBFR0ABCDEFGHJKMNPQRS.parquet")?.kind // "flush"
 */
export function parseStoredKey(key: string): StoredKey | undefined {
  const base = partitionOf(key);
  if (!base) return undefined;
  const name = key.slice(base.folder.length);
  if (name.includes("/")) return { ...base, kind: "other" };
  const compacted = COMPACTED_NAME.exec(name);
  if (compacted) {
    const [, stem, first, last, pass, part, parts] = compacted as unknown as string[];
    if (Number(part) <= Number(parts) && (first as string) <= (last as string)) {
      return {
        ...base,
        kind: "compacted",
        stem: stem as string,
        first: first as string,
        last: last as string,
        pass: pass as string,
        part: Number(part),
        parts: Number(parts),
      };
    }
  }
  const flush = FLUSH_NAME.exec(name);
  if (flush) {
    const [, stem, id, ext] = flush as unknown as string[];
    return {
      ...base,
      kind: "flush",
      stem: stem as string,
      id: id as string,
      format: ext === "parquet" ? "parquet" : "json",
    };
  }
  return { ...base, kind: "other" };
}

/**
 * A regular expression (JavaScript and RE2 alike) whose group 1 is the write a key's rows were first stored by:
 * a flush object's ULID, or for a compacted part the first ULID it replaced. Readers keep, of copies of one
 * record id, the one of the smallest such write ("first stored"), and compaction keeps the same one.
 *
 * @example new RegExp(STORED_AS_PATTERN).exec("…/logs_01KD0KBFR0ABCDEFGHJKMNPQRS.parquet")?.[1] // "01KD0KBFR0ABCDEFGHJKMNPQRS"
 */
export const STORED_AS_PATTERN = `_(${ULID_PATTERN})(?:-${ULID_PATTERN}\\.${ULID_PATTERN}\\.[0-9]+of[0-9]+)?\\.[a-z]+$`;
