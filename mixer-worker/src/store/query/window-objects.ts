import {
  partitionFolder,
  partitionOf,
  partitionSpan,
  partitionStart,
} from "../../../../shared/storage/object-keys.ts";
import type { TimeWindow } from "../../../../shared/telemetry/query-params.ts";
import { listPages } from "../list-pages.ts";
import { sortOutObjects } from "../live-objects.ts";
import { mayHoldFlux } from "../object-flux-range.ts";
import { objectTimeRange } from "../object-time-range.ts";

/** A stored object that may hold rows of the window, with the newest and oldest time it can hold. */
export interface StoredObject {
  key: string;
  size: number;
  /** Epoch ms, inclusive: from the writer's metadata, else the partition's span. */
  oldest: number;
  newest: number;
  /** Rows, from the writer's metadata, else an estimate from the size (16 bytes a row, the random record id). */
  rows: number;
  /** The partition folder it sits in. */
  folder: string;
}

/** Where a scan takes its objects from, newest first. */
export interface ObjectSource {
  /** The newest time anything not yet returned can hold, or undefined when done. */
  peekNewest(): number | undefined;
  /** The next object or unreadable key; undefined when done. */
  next(): Promise<StoredObject | { key: string; reason: string } | undefined>;
}

/**
 * Whether something else stands in for a partition folder's live objects (a metrics rollup, when it was made
 * from exactly these): then they are not read.
 */
export type StandIn = (folder: string, live: readonly R2Object[]) => Promise<boolean>;

/** Objects known beforehand (a rollup per folder), handed out newest first. */
export class KnownObjects implements ObjectSource {
  private readonly queue: StoredObject[];

  constructor(objects: readonly StoredObject[]) {
    this.queue = [...objects].sort((a, b) => b.newest - a.newest);
  }

  peekNewest(): number | undefined {
    return this.queue[0]?.newest;
  }

  async next(): Promise<StoredObject | undefined> {
    return this.queue.shift();
  }
}

/** An object, or a partition folder not listed yet, ordered by the newest time it can hold. */
type Entry = { newest: number } & (
  | { object: StoredObject }
  | { folder: string; day: boolean }
  | { unreadable: { key: string; reason: string } }
);

/**
 * The stored objects under one or more storage roots (`telemetry/logs`, `messages/generic`,
 * `messages/fluxSpec/visa-v1`) that overlap a window, newest first across all of them, found by listing only
 * the partition folders the window covers (`{root}/YYYY/MM/DD/` with a delimiter, then the hour folders
 * under it that overlap), lazily: a folder is listed only when its turn comes, so a query that stops early
 * lists little. Day-partitioned objects (no `HH/`) and hour-partitioned ones mix correctly. Of a folder's
 * objects only the live ones are returned: a compacted group once all its parts are stored, else the
 * objects it replaces (see sortOutObjects), so every record is read from one of them, across any swap.
 *
 * @example
 * const objects = new WindowObjects(env.TELEMETRY, ["telemetry/logs"], { since, until });
 * for (let o = await objects.next(); o; o = await objects.next()) console.log(o.key);
 */
export class WindowObjects implements ObjectSource {
  /** Sorted by `newest`, descending; objects before folders on ties. */
  private readonly queue: Entry[] = [];
  /** R2 list calls made so far. */
  listCalls = 0;

  private readonly fluxId: string | undefined;
  private readonly standIn: StandIn | undefined;

  /**
   * With `fluxId`, objects whose metadata says they hold no record of that flux are left out; with `standIn`,
   * the objects of every folder it says something else stands in for.
   */
  constructor(
    private readonly bucket: R2Bucket,
    roots: readonly string[],
    private readonly window: TimeWindow,
    options: { fluxId?: string | undefined; standIn?: StandIn | undefined } = {},
  ) {
    this.fluxId = options.fluxId;
    this.standIn = options.standIn;
    if (window.since >= window.until) return;
    for (let day = partitionStart(window.until - 1, "day"); day >= window.since - 86_399_999; ) {
      for (const root of roots) {
        this.push({ newest: day + 86_399_999, folder: partitionFolder(root, day, "day"), day: true });
      }
      day -= 86_400_000;
    }
  }

  /** The newest time anything not yet returned can hold (without listing), or undefined when done. */
  peekNewest(): number | undefined {
    const head = this.queue[0];
    return head && Math.min(head.newest, this.window.until - 1);
  }

  /** The next object or unreadable key, listing folders as their turn comes; undefined when done. */
  async next(): Promise<StoredObject | { key: string; reason: string } | undefined> {
    for (;;) {
      const head = this.queue.shift();
      if (!head) return undefined;
      if ("object" in head) return head.object;
      if ("unreadable" in head) return head.unreadable;
      await this.list(head.folder, head.day);
    }
  }

  private async list(folder: string, day: boolean): Promise<void> {
    // The whole folder first: whether a compacted group stands in is known only with all its parts in view.
    const objects: R2Object[] = [];
    for await (const page of listPages(this.bucket, {
      prefix: folder,
      delimiter: "/",
      include: ["customMetadata"],
    })) {
      this.listCalls++;
      objects.push(...page.objects);
      if (day) {
        for (const prefix of page.delimitedPrefixes) {
          const partition = partitionOf(prefix);
          const span = partition?.folder === prefix ? partition.span : undefined;
          if (span && this.overlaps(span.start, span.end - 1)) {
            this.push({ newest: span.end - 1, folder: prefix, day: false });
          }
        }
      }
    }
    const { live } = sortOutObjects(objects);
    if (this.standIn && live.length > 0 && (await this.standIn(folder, live))) return;
    for (const object of live) this.add(object);
  }

  private add(object: R2Object): void {
    const span = partitionSpan(object.key);
    if (!span) return;
    const range = objectTimeRange(object.customMetadata);
    const oldest = Math.max(span.start, range?.min ?? span.start);
    const newest = Math.min(span.end - 1, range?.max ?? span.end - 1);
    if (!this.overlaps(oldest, newest)) return;
    if (this.fluxId !== undefined && !mayHoldFlux(object.customMetadata, this.fluxId)) return;
    if (!object.key.endsWith(".parquet")) {
      const reason =
        "not Parquet: only Parquet objects are queried (storage.format = json is written but not read)";
      this.push({ newest, unreadable: { key: object.key, reason } });
      return;
    }
    const rows = Number(object.customMetadata?.records) || Math.ceil(object.size / 16);
    const folder = object.key.slice(0, object.key.lastIndexOf("/") + 1);
    this.push({ newest, object: { key: object.key, size: object.size, oldest, newest, rows, folder } });
  }

  private overlaps(oldest: number, newest: number): boolean {
    return newest >= this.window.since && oldest < this.window.until;
  }

  private push(entry: Entry): void {
    const isObject = !("folder" in entry);
    let at = this.queue.findIndex(
      (other) =>
        other.newest < entry.newest || (other.newest === entry.newest && isObject && "folder" in other),
    );
    if (at < 0) at = this.queue.length;
    this.queue.splice(at, 0, entry);
  }
}
