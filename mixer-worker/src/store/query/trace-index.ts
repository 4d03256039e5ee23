import { TRACE_INDEX } from "../../../../shared/storage/object-keys.ts";
import type { TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import { current, findSidecars, type Sidecar } from "../partition-sidecars.ts";
import { mayHoldTrace } from "../trace-id-bloom.ts";
import type { StandIn } from "./window-objects.ts";

/** Index objects fetched ahead of the scan, newest first: the scan visits partitions in that order. */
const FETCH_AHEAD = 6;

/**
 * What a trace lookup hands its scan so that it skips the partitions whose trace id index (index-traces.ts)
 * says they do not hold the trace: each index is used only while it stands for the partition's live objects,
 * and fetched a few partitions ahead of the scan. A partition without a current index, or whose index cannot
 * be read, is read as before. Undefined when no partition of the window has an index.
 *
 * @example matchingRows({ …, standIn: await traceIndexStandIn(bucket, window, traceId) });
 */
export async function traceIndexStandIn(
  bucket: R2Bucket,
  window: TimeWindow,
  traceId: string,
): Promise<StandIn | undefined> {
  const indexes = await findSidecars(bucket, TRACE_INDEX, window, { whole: false });
  if (indexes.size === 0) return undefined;
  const order = [...indexes.values()].sort((a, b) => b.newest - a.newest);
  const verdicts = new Map<string, Promise<boolean>>();
  const mayHold = async (index: Sidecar): Promise<boolean> => {
    try {
      const body = await bucket.get(index.key);
      if (!body) return true;
      const shape = { bits: Number(index.metadata.bits), hashes: Number(index.metadata.hashes) };
      return mayHoldTrace(new Uint8Array(await body.arrayBuffer()), shape, traceId);
    } catch {
      return true;
    }
  };
  return async (folder, live) => {
    const index = indexes.get(folder);
    if (!index || !(await current(index, live))) return false;
    const at = order.indexOf(index);
    for (const next of order.slice(at, at + FETCH_AHEAD)) {
      if (!verdicts.has(next.of)) verdicts.set(next.of, mayHold(next));
    }
    return !(await verdicts.get(folder));
  };
}
