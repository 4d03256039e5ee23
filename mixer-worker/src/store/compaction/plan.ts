import { fileIdTime, parseStoredKey } from "../../../../shared/storage/object-keys.ts";
import { sortOutObjects } from "../live-objects.ts";
import { objectTimeRange } from "../object-time-range.ts";
import { WRITE_SETTLE_MS } from "../write-records.ts";
import type { MergeSource } from "./merge.ts";

/** Rows a merged part holds at most (halved while a part does not fit the merge's memory). */
export const PART_ROWS = 100_000;
/** An object (or compacted group) under this many rows is small: merged again with its neighbours. */
const SMALL_ROWS = PART_ROWS / 2;
/** A partition is closed this long after its end: on-time records have all been flushed by then. */
export const CLOSE_AFTER_MS = 5 * 60_000;
/**
 * Replaced objects (and parts of a pass that never finished) are deleted this long after the swap: longer
 * than any query runs (a query lists a folder and fetches its objects within one request), so one that
 * listed before the swap still finds every object it listed.
 */
export const DELETE_AFTER_MS = 10 * 60_000;
/** Objects one merge takes at most (a day partition of 5 s flushes holds 17,280). */
const MAX_RUN_ITEMS = 1_000;

/** What the plan needs of a listed R2 object. */
export interface PlannedObject {
  key: string;
  size: number;
  uploaded: Date;
  customMetadata?: Record<string, string>;
}

/** A merge to run: objects whose ULIDs form one unbroken range among the partition's live objects. */
export interface PlannedRun {
  stem: string;
  /** The range of ULIDs it replaces, both inclusive. */
  first: string;
  last: string;
  sources: MergeSource[];
}

export interface PartitionPlan {
  runs: PlannedRun[];
  /** Replaced objects and parts of dead passes, past {@link DELETE_AFTER_MS}. */
  deletable: string[];
  /** Whether the partition needs another look later (open, young objects, or objects to delete later). */
  unsettled: boolean;
}

/** A live flush object, or a live compacted group (all its parts), as one unit of merging. */
interface Item {
  stem: string;
  first: string;
  last: string;
  objects: PlannedObject[];
  rows: number;
}

/**
 * Decides what to do with one partition folder's objects (its whole listing) at `now`:
 * - merge runs of small live Parquet objects (flush objects, or compacted groups under half a part), taken
 *   in ULID order and never across a large one, so that each run's ULIDs form a range holding no other live
 *   object: in a closed partition every run of two or more, in an open one runs of at least `minObjects`
 *   (a long-open partition is so merged as it fills, and once more when it closes);
 * - take only objects whose ULID is older than {@link WRITE_SETTLE_MS}: every object with an older ULID is
 *   already in the listing (the writer's promise), so no object can ever appear inside a range replaced;
 * - delete what was replaced, and parts of passes that never finished, after {@link DELETE_AFTER_MS}.
 *
 * @example const plan = planPartition(listing.objects, { start, end }, Date.now(), 32);
 */
export function planPartition(
  objects: readonly PlannedObject[],
  span: { start: number; end: number },
  now: number,
  minObjects: number,
): PartitionPlan {
  const { live, replaced, pending } = sortOutObjects(objects);
  const deletable = [...replaced, ...pending]
    .filter((set) => now - set.since >= DELETE_AFTER_MS)
    .map((set) => set.object.key);
  const closed = now >= span.end + CLOSE_AFTER_MS;
  let young = false;
  const items = new Map<string, Item>();
  for (const object of live) {
    const key = parseStoredKey(object.key);
    if (key?.kind === "flush" && key.format === "parquet") {
      if (now - fileIdTime(key.id) < WRITE_SETTLE_MS) {
        young = true;
        continue;
      }
      items.set(object.key, {
        stem: key.stem,
        first: key.id,
        last: key.id,
        objects: [object],
        rows: rowsOf(object),
      });
    } else if (key?.kind === "compacted") {
      const id = `${key.stem}_${key.first}-${key.last}.${key.pass}`;
      const item = items.get(id) ?? {
        stem: key.stem,
        first: key.first,
        last: key.last,
        objects: [],
        rows: 0,
      };
      item.objects.push(object);
      item.rows += rowsOf(object);
      items.set(id, item);
    }
  }
  const runs: PlannedRun[] = [];
  const byStem = new Map<string, Item[]>();
  for (const item of items.values()) {
    const ofStem = byStem.get(item.stem);
    if (ofStem) ofStem.push(item);
    else byStem.set(item.stem, [item]);
  }
  for (const [stem, ofStem] of byStem) {
    ofStem.sort((a, b) => (a.first < b.first ? -1 : 1));
    let run: Item[] = [];
    const close = () => {
      if (run.length >= (closed ? 2 : minObjects)) runs.push(toRun(stem, run, span));
      run = [];
    };
    for (const item of ofStem) {
      if (item.rows >= SMALL_ROWS) close();
      else {
        run.push(item);
        if (run.length === MAX_RUN_ITEMS) close();
      }
    }
    close();
  }
  const waiting = replaced.length + pending.length > deletable.length;
  return { runs, deletable, unsettled: !closed || young || waiting || runs.length > 0 };
}

function toRun(stem: string, items: Item[], span: { start: number; end: number }): PlannedRun {
  const sources = items.flatMap((item) =>
    item.objects.map((object): MergeSource => {
      const range = objectTimeRange(object.customMetadata);
      return {
        key: object.key,
        size: object.size,
        rows: rowsOf(object),
        oldest: range?.min ?? span.start,
        newest: range?.max ?? span.end - 1,
        storedAs: item.first,
      };
    }),
  );
  return { stem, first: items[0]?.first as string, last: items.at(-1)?.last as string, sources };
}

/** Rows, from the writer's metadata, else an estimate from the size (16 bytes a row, the random record id). */
const rowsOf = (object: PlannedObject) =>
  Number(object.customMetadata?.records) || Math.ceil(object.size / 16);
