import {
  METRICS_ROLLUP_ROOT,
  partitionFolder,
  partitionOf,
  partitionStart,
  telemetryRoot,
} from "../../../../shared/storage/object-keys.ts";
import type { TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import { listPages } from "../list-pages.ts";
import { liveDigest, ROLLUP_STEP_MS } from "../rollup-sources.ts";
import type { StandIn, StoredObject } from "./window-objects.ts";

/**
 * The metrics rollups a query can read instead of rows: those of partitions the window covers whole, each
 * used only when the folder's live objects are the ones it was made from. `standIn` is handed to the scan of
 * the rows; the rollups it stood in with are in `used` once the scan is done.
 */
export interface RollupPlan {
  standIn: StandIn;
  used: StoredObject[];
}

/**
 * Finds the rollups of the partitions `window` covers whole (listing each day's rollup folder once) for a
 * query whose interval is a whole number of minutes; undefined when it is not (a minute would straddle two
 * buckets) or none lies in the window.
 *
 * @example const plan = await rollupPlan(env.TELEMETRY, window, 3_600_000);
 */
export async function rollupPlan(
  bucket: R2Bucket,
  window: TimeWindow,
  intervalMs: number,
): Promise<RollupPlan | undefined> {
  if (intervalMs % ROLLUP_STEP_MS !== 0 || window.since >= window.until) return undefined;
  const byFolder = new Map<string, StoredObject & { sources: string }>();
  for (let day = partitionStart(window.since, "day"); day < window.until; day += 86_400_000) {
    const prefix = partitionFolder(METRICS_ROLLUP_ROOT, day, "day");
    for await (const page of listPages(bucket, { prefix, include: ["customMetadata"] })) {
      for (const object of page.objects) {
        const partition = partitionOf(object.key);
        const sources = object.customMetadata?.sources;
        if (!partition || !sources) continue;
        const { start, end } = partition.span;
        if (start < window.since || end > window.until) continue;
        const folder = telemetryRoot("metrics") + partition.folder.slice(METRICS_ROLLUP_ROOT.length);
        const rows = Number(object.customMetadata?.records) || Math.ceil(object.size / 16);
        byFolder.set(folder, {
          key: object.key,
          size: object.size,
          oldest: start,
          newest: end - 1,
          rows,
          folder: partition.folder,
          sources,
        });
      }
    }
  }
  if (byFolder.size === 0) return undefined;
  const used: StoredObject[] = [];
  return {
    used,
    async standIn(folder, live) {
      const rollup = byFolder.get(folder);
      if (!rollup || rollup.sources !== (await liveDigest(live.map((object) => object.key)))) return false;
      const { sources: _, ...object } = rollup;
      used.push(object);
      return true;
    },
  };
}
