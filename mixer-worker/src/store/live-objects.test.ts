import { describe, expect, it } from "vitest";
import { compactedObjectKey, newFileId } from "../../../shared/storage/object-keys.ts";
import { sortOutObjects } from "./live-objects.ts";

const FOLDER = "telemetry/logs/2025/03/04/10/";
const T = Date.UTC(2025, 2, 4, 10);
const id = (n: number) => newFileId(T + n * 1_000, new Uint8Array(10));
const flush = (n: number, ext = "parquet") => `${FOLDER}logs_${id(n)}.${ext}`;
const part = (first: number, last: number, pass: number, i: number, n: number) =>
  compactedObjectKey(FOLDER, "logs", { first: id(first), last: id(last), pass: id(pass), part: i, parts: n });
const at = (n: number) => new Date(T + n * 1_000);

/** Listed objects, uploaded in the order given (1 s apart), so `since` times can be named. */
const listing = (...keys: string[]) => keys.map((key, i) => ({ key, uploaded: at(100 + i) }));
const keysOf = (objects: { key: string }[]) => objects.map((object) => object.key).sort();

describe("sortOutObjects: what readers of a partition read", () => {
  it("reads flush objects while no compaction stands in for them", () => {
    const objects = listing(flush(1), flush(2), flush(3));
    expect(sortOutObjects(objects)).toEqual({ live: objects, replaced: [], pending: [] });
  });

  it("a complete group stands in for the flush objects of its range, from its last part's upload", () => {
    const objects = listing(flush(1), flush(2), flush(3), part(1, 2, 10, 1, 2), part(1, 2, 10, 2, 2));
    const sorted = sortOutObjects(objects);
    expect(keysOf(sorted.live)).toEqual([flush(3), part(1, 2, 10, 1, 2), part(1, 2, 10, 2, 2)].sort());
    expect(sorted.replaced.map(({ object, since }) => [object.key, since])).toEqual([
      [flush(1), at(104).getTime()],
      [flush(2), at(104).getTime()],
    ]);
  });

  it("a group missing a part stands in for nothing: its parts are pending, its sources live", () => {
    const objects = listing(flush(1), flush(2), part(1, 2, 10, 2, 2));
    const sorted = sortOutObjects(objects);
    expect(keysOf(sorted.live)).toEqual([flush(1), flush(2)].sort());
    expect(sorted.pending.map(({ object }) => object.key)).toEqual([part(1, 2, 10, 2, 2)]);
  });

  it("a wider group replaces an older group inside its range; of two over the same range, the later pass", () => {
    const older = part(1, 2, 10, 1, 1);
    const wider = part(1, 3, 11, 1, 1);
    const again = part(1, 3, 12, 1, 1);
    const sorted = sortOutObjects(listing(older, flush(3), wider, again));
    expect(keysOf(sorted.live)).toEqual([again]);
    expect(keysOf(sorted.replaced.map(({ object }) => object))).toEqual([older, flush(3), wider].sort());
  });

  it("never hides NDJSON objects, names outside the scheme, or flush objects outside the range", () => {
    const objects = listing(
      flush(1, "ndjson"),
      `${FOLDER}logs_001.parquet`,
      flush(2),
      flush(5),
      part(1, 3, 10, 1, 1),
    );
    expect(keysOf(sortOutObjects(objects).live)).toEqual(
      [flush(1, "ndjson"), `${FOLDER}logs_001.parquet`, flush(5), part(1, 3, 10, 1, 1)].sort(),
    );
  });

  it("compares objects of one folder only", () => {
    const other = `telemetry/logs/2025/03/04/11/logs_${id(2)}.parquet`;
    expect(keysOf(sortOutObjects(listing(other, part(1, 3, 10, 1, 1))).live)).toEqual(
      [other, part(1, 3, 10, 1, 1)].sort(),
    );
  });
});
