import { parseStoredKey, type StoredKey } from "../../../shared/storage/object-keys.ts";

/** What the sorting needs of a listed R2 object. */
export interface ListedObject {
  key: string;
  uploaded: Date;
}

/** An object that readers no longer read, and since when (epoch ms): the rows are elsewhere or not yet in. */
export interface SetAside<O> {
  object: O;
  since: number;
}

/** The objects of partition folders, sorted out for readers (see {@link sortOutObjects}). */
export interface FolderObjects<O> {
  /** What readers read: every stored record is in exactly one of these (or in several copies ingest made). */
  live: O[];
  /** Replaced by a compacted group stored `since`: deleted once no reader can still be reading them. */
  replaced: SetAside<O>[];
  /** Parts of a compaction pass not all stored (yet, or ever): ignored; `since` is the newest part's upload. */
  pending: SetAside<O>[];
}

interface Group<O> {
  id: string;
  first: string;
  last: string;
  pass: string;
  parts: O[];
  complete: boolean;
  /** When its last part was stored: from then on it stands in for what it replaced. */
  committed: number;
}

/**
 * Sorts the objects of one or more partition folders (whole listings: a group can only be judged with all
 * its parts in view) into what readers read and what they skip. A compaction pass's parts stand in for the
 * Parquet flush objects whose ULIDs lie in their `first…last` (and for older compacted groups whose range
 * they contain) once every part is stored, and not before: the put of the last part is the swap, atomic for
 * any reader whose listing comes after it, while one that listed before still finds the objects it listed
 * (they are deleted only after a grace period). Anything else (NDJSON, names outside the scheme) is live.
 *
 * @example const { live } = sortOutObjects(listing.objects);
 */
export function sortOutObjects<O extends ListedObject>(objects: readonly O[]): FolderObjects<O> {
  const parsed = objects.map((object) => ({ object, key: parseStoredKey(object.key) }));
  const groups = new Map<string, Group<O>>();
  for (const { object, key } of parsed) {
    if (key?.kind !== "compacted") continue;
    const id = groupId(key);
    const group = groups.get(id) ?? {
      id,
      first: key.first,
      last: key.last,
      pass: key.pass,
      parts: [],
      complete: false,
      committed: 0,
    };
    group.parts.push(object);
    group.committed = Math.max(group.committed, object.uploaded.getTime());
    groups.set(id, group);
  }
  const complete: Group<O>[] = [];
  for (const group of groups.values()) {
    const key = parseStoredKey(group.parts[0]?.key ?? "") as Extract<StoredKey, { kind: "compacted" }>;
    const numbers = new Set(group.parts.map((part) => (parseStoredKey(part.key) as typeof key).part));
    group.complete = numbers.size === key.parts && group.parts.length === key.parts;
    if (group.complete) complete.push(group);
  }
  /** The earliest commit of a complete group (other than `self`) that covers first…last, if any. */
  const coveredSince = (scope: string, first: string, last: string, self?: Group<O>): number | undefined => {
    let since: number | undefined;
    for (const group of complete) {
      if (group === self || !group.id.startsWith(scope) || group.first > first || group.last < last) continue;
      // Two complete groups over the same range (a pass that died after storing all its parts, then ran
      // again): the later pass stands.
      if (self && group.first === first && group.last === last && group.pass < self.pass) continue;
      since = Math.min(since ?? Number.POSITIVE_INFINITY, group.committed);
    }
    return since;
  };

  const out: FolderObjects<O> = { live: [], replaced: [], pending: [] };
  for (const { object, key } of parsed) {
    if (key?.kind === "flush" && key.format === "parquet") {
      const since = coveredSince(scopeOf(key), key.id, key.id);
      if (since === undefined) out.live.push(object);
      else out.replaced.push({ object, since });
    } else if (key?.kind === "compacted") {
      const group = groups.get(groupId(key)) as Group<O>;
      if (!group.complete) {
        out.pending.push({ object, since: group.committed });
        continue;
      }
      const since = coveredSince(scopeOf(key), key.first, key.last, group);
      if (since === undefined) out.live.push(object);
      else out.replaced.push({ object, since });
    } else out.live.push(object);
  }
  return out;
}

/** Objects of one folder and stem are compared with each other only. */
const scopeOf = (key: { folder: string; stem: string }) => `${key.folder}\u0000${key.stem}\u0000`;

const groupId = (key: Extract<StoredKey, { kind: "compacted" }>) =>
  `${scopeOf(key)}${key.first}-${key.last}.${key.pass}.${key.parts}`;
