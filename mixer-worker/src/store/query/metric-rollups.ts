import {
  METRICS_HOUR_ROLLUP,
  METRICS_ROLLUP,
  type SidecarKind,
} from "../../../../shared/storage/object-keys.ts";
import type { TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import { current, findSidecars, type Sidecar } from "../partition-sidecars.ts";
import type { StandIn, StoredObject } from "./window-objects.ts";

/** Metric rollups per minute and per hour: buckets of a whole number of their steps can be read from them. */
export const ROLLUP_STEP_MS = 60_000;
export const HOUR_ROLLUP_STEP_MS = 3_600_000;

/**
 * The metrics rollups a query can read instead of rows: those of partitions the window covers whole, each
 * used only when the folder's live objects are the ones it was made from. `standIn` is handed to the scan of
 * the rows; the rollups it stood in with are in `minutes` and `hours` once the scan is done.
 */
export interface RollupPlan {
  standIn: StandIn;
  minutes: StoredObject[];
  hours: StoredObject[];
}

/**
 * Finds the rollups of the partitions `window` covers whole for a query whose interval is a whole number of
 * minutes: of a folder, its hour rollup when the interval is a whole number of hours and that one is current,
 * else its minute rollup when current (an hour rollup that failed, or made before hour rollups were);
 * undefined when the interval is not a whole number of minutes (a minute would straddle two buckets) or none
 * lies in the window.
 *
 * @example const plan = await rollupPlan(env.TELEMETRY, window, 3_600_000);
 */
export async function rollupPlan(
  bucket: R2Bucket,
  window: TimeWindow,
  intervalMs: number,
): Promise<RollupPlan | undefined> {
  if (intervalMs % ROLLUP_STEP_MS !== 0 || window.since >= window.until) return undefined;
  const find = (kind: SidecarKind) => findSidecars(bucket, kind, window, { whole: true });
  const [hourly, minutely] = await Promise.all([
    intervalMs % HOUR_ROLLUP_STEP_MS === 0 ? find(METRICS_HOUR_ROLLUP) : new Map<string, Sidecar>(),
    find(METRICS_ROLLUP),
  ]);
  if (hourly.size === 0 && minutely.size === 0) return undefined;
  const plan: RollupPlan = {
    minutes: [],
    hours: [],
    async standIn(folder, live) {
      for (const [found, used] of [
        [hourly, plan.hours],
        [minutely, plan.minutes],
      ] as const) {
        const rollup = found.get(folder);
        if (rollup && (await current(rollup, live))) {
          used.push(rollup);
          return true;
        }
      }
      return false;
    },
  };
  return plan;
}
