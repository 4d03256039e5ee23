import {
  compactedObjectKey,
  messagesRoot,
  newFileId,
  partitionFolder,
  partitionOf,
  partitionStart,
  SPEC_ROOTS_PREFIX,
  telemetryRoot,
} from "../../../../shared/storage/object-keys.ts";
import type { TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import { TELEMETRY_KINDS, type TelemetryKind } from "../../../../shared/telemetry/records.ts";
import { type IsolateMemoryReport, watchIsolateMemory } from "../isolate-memory.ts";
import { listAll, listPages } from "../list-pages.ts";
import { MESSAGE_COLUMNS, type StoredColumn, TELEMETRY_COLUMNS } from "../parquet-schema.ts";
import type { TelemetryCompression } from "../parquet-writer.ts";
import { indexTraces, type TraceIndexReport } from "./index-traces.ts";
import { MergeMemoryError, type MergeReport, mergeSources } from "./merge.ts";
import { CLOSE_AFTER_MS, PART_ROWS, type PlannedRun, planPartition } from "./plan.ts";
import { type RollupReport, rollUpMetrics } from "./roll-up-metrics.ts";

/** `[observability.embedded.compaction]` as a pass uses it, with the storage's codec. */
export interface CompactionSettings {
  /** An open partition's small objects are merged once this many lie side by side. */
  minObjects: number;
  compression: TelemetryCompression;
}

/** What compacting one partition did. */
export interface PartitionCompaction {
  folder: string;
  /** Objects merged, and merged objects written in their stead. */
  merged: number;
  written: number;
  rowsIn: number;
  rowsOut: number;
  bytesRead: number;
  bytesWritten: number;
  /** Replaced objects (and leftovers of dead passes) deleted. */
  deleted: number;
  /** Whether the partition needs another look later. */
  unsettled: boolean;
  /** What the merges and the rollup cost the isolate's memory (absent when there was nothing to do). */
  memory?: IsolateMemoryReport;
  /** For a closed metrics partition: what rolling it up did (see roll-up-metrics.ts). */
  rollup?: RollupReport;
  /** For a closed traces partition: what indexing its trace ids did (see index-traces.ts). */
  traceIndex?: TraceIndexReport;
}

/** Halvings of the part size tried when a part does not fit the merge's memory. */
const MEMORY_RETRIES = 4;

/**
 * Compacts one partition folder (`telemetry/logs/2025/12/21/14/`): deletes what earlier passes replaced
 * once no reader can still need it, then merges runs of small objects (see planPartition) into sorted,
 * deduplicated parts written with the ingest writer's schema, which stand in for their sources once the last
 * part is stored. `now` decides which objects are old enough to take and to delete. One merge holds at most
 * what MERGE_BUDGET allows; the compactor runs one at a time.
 *
 * @example const report = await compactPartition(env.TELEMETRY, "telemetry/metrics/2026/11/27/09/", { minObjects: 32, compression: "zstd" });
 */
export async function compactPartition(
  bucket: R2Bucket,
  folder: string,
  settings: CompactionSettings,
  now: number = Date.now(),
): Promise<PartitionCompaction> {
  const partition = partitionOf(folder);
  const columns = partition && partition.folder === folder ? storedColumnsOf(partition.root) : undefined;
  if (!partition || !columns) throw new Error(`${folder} is not a partition folder of the stored tree`);
  // Only the objects directly in the folder (a day partition's folder holds no hour folders), with metadata.
  const objects = await listAll(bucket, { prefix: folder, delimiter: "/", include: ["customMetadata"] });
  const plan = planPartition(objects, partition.span, now, settings.minObjects);
  const report: PartitionCompaction = {
    folder,
    merged: 0,
    written: 0,
    rowsIn: 0,
    rowsOut: 0,
    bytesRead: 0,
    bytesWritten: 0,
    deleted: 0,
    unsettled: plan.unsettled,
  };
  for (let i = 0; i < plan.deletable.length; i += 1_000) {
    await bucket.delete(plan.deletable.slice(i, i + 1_000));
  }
  report.deleted = plan.deletable.length;
  // A closed partition's sidecars (partition-sidecars.ts), made from it as merged now, again only when its
  // objects changed: metrics rolled up per minute and per hour, the trace ids of spans.
  const closed = now >= partition.span.end + CLOSE_AFTER_MS;
  const rollUp = closed && partition.root === telemetryRoot("metrics");
  const index = closed && partition.root === telemetryRoot("traces");
  if (plan.runs.length === 0 && !rollUp && !index) return report;

  // Not through the queries' slots: a slot freed here would wake a request of another context (the compactor
  // is a Durable Object), which workerd forbids to do I/O from there.
  const watch = watchIsolateMemory();
  try {
    for (const run of plan.runs) {
      const merged = await mergeRun(bucket, folder, run, columns, settings.compression);
      report.merged += run.sources.length;
      report.written += merged.parts;
      report.rowsIn += merged.rowsIn;
      report.rowsOut += merged.rowsOut;
      report.bytesRead += merged.bytesRead;
      report.bytesWritten += merged.bytesWritten;
    }
    // A sidecar that cannot be made leaves the partition read from its rows; the merge stands.
    const failed = (error: unknown) => ({ written: false, error: (error as Error).message });
    if (rollUp) {
      report.rollup = await rollUpMetrics(bucket, folder, settings.compression).catch((error) => ({
        ...failed(error),
        rows: 0,
        hourRows: 0,
      }));
    }
    if (index) {
      report.traceIndex = await indexTraces(bucket, folder).catch((error) => ({
        ...failed(error),
        traces: 0,
      }));
    }
  } finally {
    report.memory = watch.done();
  }
  return report;
}

/** Merges one run; a part too large for the merge's memory makes it start over with smaller parts. */
async function mergeRun(
  bucket: R2Bucket,
  folder: string,
  run: PlannedRun,
  columns: StoredColumnsOf,
  compression: TelemetryCompression,
): Promise<MergeReport> {
  for (let attempt = 0; ; attempt++) {
    const pass = newFileId();
    const written: string[] = [];
    try {
      return await mergeSources({
        bucket,
        sources: run.sources,
        columns: columns.columns,
        orderBy: columns.orderBy,
        compression,
        partRows: Math.ceil(PART_ROWS / 2 ** attempt),
        async put(part, parts, merged) {
          const key = compactedObjectKey(folder, run.stem, {
            first: run.first,
            last: run.last,
            pass,
            part,
            parts,
          });
          await bucket.put(key, merged.bytes, {
            customMetadata: {
              records: String(merged.rows),
              ...(merged.tsMin === undefined
                ? {}
                : { ts_min: String(merged.tsMin), ts_max: String(merged.tsMax) }),
              ...merged.fluxRange,
            },
          });
          written.push(key);
        },
      });
    } catch (error) {
      // The parts stored so far stand in for nothing while the group is incomplete; remove them now.
      await bucket.delete(written).catch(() => {});
      if (!(error instanceof MergeMemoryError) || attempt === MEMORY_RETRIES) throw error;
    }
  }
}

interface StoredColumnsOf {
  columns: readonly StoredColumn[];
  orderBy: string;
}

/**
 * The columns objects under a storage root hold, and the order a merged object keeps: by time, then record
 * id; spans by the minute, then trace, so that a trace's spans sit side by side (one row group, one read).
 */
function storedColumnsOf(root: string): StoredColumnsOf | undefined {
  if (root.startsWith("messages/")) return { columns: MESSAGE_COLUMNS, orderBy: "ts, record_id" };
  const kind = root.slice("telemetry/".length) as TelemetryKind;
  if (!TELEMETRY_KINDS.includes(kind)) return undefined;
  return {
    columns: TELEMETRY_COLUMNS[kind],
    orderBy:
      kind === "traces" ? "date_trunc('minute', ts), trace_id, ts, span_id, record_id" : "ts, record_id",
  };
}

/**
 * The partition folders of every storage root (each kind of telemetry, generic messages, each spec's
 * messages) that hold objects of `window`, hour and day partitions alike, found by listing each day's folder.
 *
 * @example for (const folder of await partitionFolders(env.TELEMETRY, { since, until })) await compactPartition(…);
 */
export async function partitionFolders(bucket: R2Bucket, window: TimeWindow): Promise<string[]> {
  const roots = [...TELEMETRY_KINDS.map(telemetryRoot), messagesRoot(null)];
  for await (const page of listPages(bucket, { prefix: SPEC_ROOTS_PREFIX, delimiter: "/" })) {
    roots.push(...page.delimitedPrefixes.map((prefix) => prefix.slice(0, -1)));
  }
  const folders: string[] = [];
  for (const root of roots) {
    for (let day = partitionStart(window.since, "day"); day < window.until; day += 86_400_000) {
      const dayFolder = partitionFolder(root, day, "day");
      for await (const page of listPages(bucket, { prefix: dayFolder, delimiter: "/" })) {
        if (page.objects.length > 0 && !folders.includes(dayFolder)) folders.push(dayFolder);
        for (const prefix of page.delimitedPrefixes) {
          const span = partitionOf(prefix)?.span;
          if (span && span.end > window.since && span.start < window.until) folders.push(prefix);
        }
      }
    }
  }
  return folders;
}
