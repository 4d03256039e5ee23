import type { MixerConfig } from "../../../shared/config/index.ts";
import { partitionOf, STORED_TREES } from "../../../shared/storage/object-keys.ts";
import { consoleLine } from "../self/console-line.ts";

type Rotation = MixerConfig["observability"]["embedded"]["rotation"];

export interface RetentionReport {
  policy: Rotation["policy"];
  deletedObjects: number;
  deletedBytes: number;
  keptObjects: number;
  keptBytes: number;
}

interface StoredObject {
  key: string;
  size: number;
  /** Its partition folder, and when that partition ends. */
  folder: string;
  end: number;
}

const DAY_MS = 86_400_000;
const GB = 1_000_000_000;

async function listPartitioned(bucket: R2Bucket): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for (const prefix of STORED_TREES) {
    let cursor: string | undefined;
    do {
      const page = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
      for (const object of page.objects) {
        const partition = partitionOf(object.key);
        if (partition) {
          out.push({ key: object.key, size: object.size, folder: partition.folder, end: partition.span.end });
        }
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
  return out;
}

/**
 * Applies `[observability.embedded.rotation]`: `time` deletes partitions that ended more than `max_age_days`
 * ago, `size` deletes the oldest partitions until the total is under `max_size_gb`, `both` does both.
 * Only keys in the reference's partition layout are considered, and a partition goes whole, whatever its
 * objects are (flush objects, compacted parts, objects compaction replaced and not yet deleted): a part of
 * a compacted group left behind alone would stand in for nothing, and its sources would be gone.
 *
 * @example await applyRetention(env.TELEMETRY, config.observability.embedded.rotation, Date.now());
 */
export async function applyRetention(
  bucket: R2Bucket,
  rotation: Rotation,
  now: number,
): Promise<RetentionReport> {
  const objects = (await listPartitioned(bucket)).sort((a, b) => a.end - b.end);
  const doomed = new Set<string>();
  if (rotation.policy === "time" || rotation.policy === "both") {
    const cutoff = now - rotation.max_age_days * DAY_MS;
    for (const object of objects) if (object.end <= cutoff) doomed.add(object.key);
  }
  if (rotation.policy === "size" || rotation.policy === "both") {
    let total = objects.filter((o) => !doomed.has(o.key)).reduce((sum, o) => sum + o.size, 0);
    // Oldest partition first (objects are sorted by its end), each whole.
    const partitions = new Map<string, StoredObject[]>();
    for (const object of objects) {
      const partition = partitions.get(object.folder);
      if (partition) partition.push(object);
      else partitions.set(object.folder, [object]);
    }
    for (const partition of partitions.values()) {
      if (total <= rotation.max_size_gb * GB) break;
      for (const object of partition) {
        if (doomed.has(object.key)) continue;
        doomed.add(object.key);
        total -= object.size;
      }
    }
  }
  const keys = [...doomed];
  for (let i = 0; i < keys.length; i += 1_000) await bucket.delete(keys.slice(i, i + 1_000));
  const deleted = objects.filter((o) => doomed.has(o.key));
  const report: RetentionReport = {
    policy: rotation.policy,
    deletedObjects: deleted.length,
    deletedBytes: deleted.reduce((sum, o) => sum + o.size, 0),
    keptObjects: objects.length - deleted.length,
    keptBytes: objects.reduce((sum, o) => sum + o.size, 0) - deleted.reduce((sum, o) => sum + o.size, 0),
  };
  if (deleted.length > 0) {
    const oldest = deleted[0]?.key;
    const newest = deleted[deleted.length - 1]?.key;
    consoleLine(
      "info",
      `retention (${rotation.policy}): removed ${report.deletedObjects} objects, ${report.deletedBytes} bytes, from ${oldest} to ${newest}; kept ${report.keptObjects}`,
    );
  }
  return report;
}
