import { partitionOf } from "../../../shared/storage/object-keys.ts";
import { listAll } from "./list-pages.ts";
import { sortOutObjects } from "./live-objects.ts";

/** One page of stored files. */
export interface StoredFilesPage {
  files: R2Object[];
  /** R2's cursor for the next page; undefined on the last. */
  cursor: string | undefined;
}

/**
 * One page (up to `limit` keys, in key order) of the stored objects under `prefix`, as files to download:
 * the live ones only, so that the files of a partition hold each record once (as far as ingest wrote it
 * once), whether or not it was compacted. Objects a complete compacted group replaced, and parts of a group
 * not all stored yet, are left out. A partition folder that may continue past either end of the page is
 * listed whole to judge it.
 *
 * @example const { files, cursor } = await listStoredFiles(env.TELEMETRY, "telemetry/logs/2026/", undefined, 1000);
 */
export async function listStoredFiles(
  bucket: R2Bucket,
  prefix: string,
  cursor: string | undefined,
  limit: number,
): Promise<StoredFilesPage> {
  const page = await bucket.list({ prefix, limit, ...(cursor ? { cursor } : {}) });
  const byFolder = new Map<string, R2Object[]>();
  for (const object of page.objects) {
    const folder = partitionOf(object.key)?.folder;
    if (folder === undefined) continue;
    const objects = byFolder.get(folder);
    if (objects) objects.push(object);
    else byFolder.set(folder, [object]);
  }
  const folders = [...byFolder.keys()];
  const edges = new Set([folders[0], folders.at(-1)]);
  const live = new Set<string>();
  for (const [folder, objects] of byFolder) {
    const whole = edges.has(folder) ? await listAll(bucket, { prefix: folder }) : objects;
    for (const object of sortOutObjects(whole).live) live.add(object.key);
  }
  return {
    files: page.objects.filter((object) => partitionOf(object.key) === undefined || live.has(object.key)),
    cursor: page.truncated ? page.cursor : undefined,
  };
}
