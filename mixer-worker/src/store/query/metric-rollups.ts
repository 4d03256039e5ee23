import { METRICS_ROLLUP } from "../../../../shared/storage/object-keys.ts";
import type { TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import { current, findSidecars } from "../partition-sidecars.ts";
import type { StandIn, StoredObject } from "./window-objects.ts";

/** Metric rollups are per minute: buckets of a whole number of minutes can be read from them. */
export const ROLLUP_STEP_MS = 60_000;

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
 * Finds the rollups of the partitions `window` covers whole for a query whose interval is a whole number of
 * minutes; undefined when it is not (a minute would straddle two buckets) or none lies in the window.
 *
 * @example const plan = await rollupPlan(env.TELEMETRY, window, 3_600_000);
 */
export async function rollupPlan(
  bucket: R2Bucket,
  window: TimeWindow,
  intervalMs: number,
): Promise<RollupPlan | undefined> {
  if (intervalMs % ROLLUP_STEP_MS !== 0 || window.since >= window.until) return undefined;
  const rollups = await findSidecars(bucket, METRICS_ROLLUP, window, { whole: true });
  if (rollups.size === 0) return undefined;
  const used: StoredObject[] = [];
  return {
    used,
    async standIn(folder, live) {
      const rollup = rollups.get(folder);
      if (!rollup || !(await current(rollup, live))) return false;
      used.push(rollup);
      return true;
    },
  };
}
