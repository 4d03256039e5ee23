import {
  partitionFolder,
  partitionOf,
  partitionStart,
  type SidecarKind,
  sidecarKey,
} from "../../../shared/storage/object-keys.ts";
import type { TimeWindow } from "../../../shared/telemetry/query-params.ts";
import { listAll, listPages } from "./list-pages.ts";
import { sortOutObjects } from "./live-objects.ts";
import type { StoredObject } from "./query/window-objects.ts";

/**
 * A partition's sidecar (see SidecarKind in object-keys.ts) as listed. Its R2 metadata `sources` is a digest
 * of the keys of the objects it was made from ({@link liveDigest}): readers trust it only while their own
 * listing of the folder gives the same digest, so late records (a new flush object) or a compaction (new
 * parts) make them read the rows until the compactor has made it again.
 */
export interface Sidecar extends StoredObject {
  /** The partition folder of the rows it was made from. */
  of: string;
  sources: string;
  metadata: Record<string, string>;
}

/**
 * What a sidecar is made from: a digest of its partition folder's live object keys.
 *
 * @example const sources = await liveDigest(live.map((object) => object.key));
 */
async function liveDigest(keys: readonly string[]): Promise<string> {
  const text = [...keys].sort().join("\n");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The sidecars of `kind` whose partitions overlap `window` (or, with `whole`, lie inside it), by the folder
 * of their rows; each day's sidecar folder is listed once.
 *
 * @example const rollups = await findSidecars(bucket, METRICS_ROLLUP, window, { whole: true });
 */
export async function findSidecars(
  bucket: R2Bucket,
  kind: SidecarKind,
  window: TimeWindow,
  options: { whole: boolean },
): Promise<Map<string, Sidecar>> {
  const found = new Map<string, Sidecar>();
  for (let day = partitionStart(window.since, "day"); day < window.until; day += 86_400_000) {
    const prefix = partitionFolder(kind.sidecarRoot, day, "day");
    for await (const page of listPages(bucket, { prefix, include: ["customMetadata"] })) {
      for (const object of page.objects) {
        const partition = partitionOf(object.key);
        const metadata = object.customMetadata ?? {};
        if (!partition || !metadata.sources || metadata.failed || !object.key.endsWith(`/${kind.name}`))
          continue;
        const { start, end } = partition.span;
        const inside = options.whole
          ? start >= window.since && end <= window.until
          : end > window.since && start < window.until;
        if (!inside) continue;
        const of = kind.root + partition.folder.slice(kind.sidecarRoot.length);
        found.set(of, {
          key: object.key,
          size: object.size,
          oldest: start,
          newest: end - 1,
          rows: Number(metadata.records) || Math.ceil(object.size / 16),
          folder: partition.folder,
          of,
          sources: metadata.sources,
          metadata,
        });
      }
    }
  }
  return found;
}

/**
 * Whether a sidecar stands for a folder's live objects as a reader lists them now.
 *
 * @example if (await current(sidecar, live)) read(sidecar); else read(live);
 */
export async function current(
  sidecar: Sidecar | undefined,
  live: readonly { key: string }[],
): Promise<boolean> {
  return sidecar !== undefined && sidecar.sources === (await liveDigest(live.map((object) => object.key)));
}

/** What the compactor has to make a folder's sidecar from, when the stored one is not current. */
export interface SidecarWork {
  key: string;
  /** The folder's live objects, all Parquet. */
  live: R2Object[];
  /** The digest to store with the new sidecar. */
  sources: string;
}

/**
 * Lists a partition folder and says whether its sidecars of `kinds` must be made again: one work per kind, for
 * all of them when any one was not made from the folder's live objects as they are (sidecars made together, as
 * an hour rollup from the minute one, are made again together); undefined when all are current, or when there
 * is nothing they could be made from (no objects, or objects the queries cannot read either: NDJSON), in which
 * case stale ones are deleted.
 *
 * @example const works = await sidecarWork(bucket, [TRACE_INDEX], folder); if (works) await build(works[0]);
 */
export async function sidecarWork<const Kinds extends readonly SidecarKind[]>(
  bucket: R2Bucket,
  kinds: Kinds,
  folder: string,
): Promise<{ [I in keyof Kinds]: SidecarWork } | undefined> {
  const listed = await listAll(bucket, { prefix: folder, delimiter: "/", include: ["customMetadata"] });
  const { live } = sortOutObjects(listed);
  const keys = kinds.map((kind) => sidecarKey(kind, folder));
  const sources = await liveDigest(live.map((object) => object.key));
  const stored = await Promise.all(keys.map((key) => bucket.head(key)));
  if (stored.every((object) => object?.customMetadata?.sources === sources)) return undefined;
  if (live.length === 0 || live.some((object) => !object.key.endsWith(".parquet"))) {
    const stale = keys.filter((_, i) => stored[i]);
    if (stale.length > 0) await bucket.delete(stale);
    return undefined;
  }
  return keys.map((key) => ({ key, live, sources })) as { [I in keyof Kinds]: SidecarWork };
}

/**
 * Records that the sidecar of `work` could not be made from these objects: an empty object whose metadata
 * says why, which readers skip (they read the rows) and the compactor takes as current, so a partition whose
 * sidecar fails costs one attempt per change of its objects, not one every pass.
 *
 * @example await markFailed(bucket, work, error);
 */
export async function markFailed(
  bucket: R2Bucket,
  work: Pick<SidecarWork, "key" | "sources">,
  error: unknown,
): Promise<string> {
  const reason = String((error as Error)?.message ?? error).slice(0, 500);
  await bucket.put(work.key, new Uint8Array(0), {
    customMetadata: { sources: work.sources, failed: reason },
  });
  return reason;
}
