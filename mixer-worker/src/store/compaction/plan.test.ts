import { describe, expect, it } from "vitest";
import { compactedObjectKey, newFileId } from "../../../../shared/storage/object-keys.ts";
import { WRITE_SETTLE_MS } from "../write-records.ts";
import { CLOSE_AFTER_MS, DELETE_AFTER_MS, PART_ROWS, planPartition } from "./plan.ts";

const FOLDER = "telemetry/metrics/2025/03/04/10/";
const SPAN = { start: Date.UTC(2025, 2, 4, 10), end: Date.UTC(2025, 2, 4, 11) };
/** Objects written one a second from 10:00:05 on, uploaded when named. */
const written = (n: number) => SPAN.start + 5_000 + n * 1_000;
const id = (n: number) => newFileId(written(n), new Uint8Array(10).fill(n));
const flush = (n: number, rows = 10) => ({
  key: `${FOLDER}metrics_${id(n)}.parquet`,
  size: rows * 20,
  uploaded: new Date(written(n)),
  customMetadata: { records: String(rows), ts_min: String(written(n) - 5_000), ts_max: String(written(n)) },
});
const part = (first: number, last: number, rows: number, uploaded: number) => ({
  key: compactedObjectKey(FOLDER, "metrics", {
    first: id(first),
    last: id(last),
    pass: newFileId(uploaded),
    part: 1,
    parts: 1,
  }),
  size: rows * 10,
  uploaded: new Date(uploaded),
  customMetadata: { records: String(rows) },
});
const CLOSED = SPAN.end + CLOSE_AFTER_MS;
const runKeys = (plan: ReturnType<typeof planPartition>) =>
  plan.runs.map((run) => run.sources.map((source) => source.key));

describe("planPartition", () => {
  it("merges every small object of a closed partition in one run, in ULID order, each source stored as its own write", () => {
    const objects = [flush(3), flush(1), flush(2)];
    const plan = planPartition(objects, SPAN, CLOSED, 32);
    expect(runKeys(plan)).toEqual([[flush(1).key, flush(2).key, flush(3).key]]);
    expect(plan.runs[0]).toMatchObject({ stem: "metrics", first: id(1), last: id(3) });
    expect(plan.runs[0]?.sources[0]).toMatchObject({ rows: 10, storedAs: id(1), oldest: written(1) - 5_000 });
    expect(plan.unsettled).toBe(true);
  });

  it("leaves a closed partition of one object as it is, and lets it go", () => {
    const plan = planPartition([flush(1)], SPAN, CLOSED, 32);
    expect(plan).toEqual({ runs: [], deletable: [], unsettled: false });
  });

  it("takes no object younger than the writer's settle time, and looks again later", () => {
    const open = planPartition([flush(1), flush(2), flush(3)], SPAN, written(3) + WRITE_SETTLE_MS - 1, 2);
    expect(runKeys(open)).toEqual([[flush(1).key, flush(2).key]]);
    expect(open.unsettled).toBe(true);
  });

  it("merges an open partition's small objects only once min_objects lie side by side", () => {
    const now = written(10) + WRITE_SETTLE_MS;
    const three = [flush(1), flush(2), flush(3)];
    expect(planPartition(three, SPAN, now, 4).runs).toEqual([]);
    expect(runKeys(planPartition([...three, flush(4)], SPAN, now, 4))).toEqual([
      [flush(1).key, flush(2).key, flush(3).key, flush(4).key],
    ]);
  });

  it("never merges across a large object: each run is an unbroken range of ULIDs", () => {
    const big = part(3, 4, PART_ROWS, written(5));
    const objects = [flush(1), flush(2), big, flush(6), flush(7)];
    const plan = planPartition(objects, SPAN, CLOSED, 32);
    expect(runKeys(plan)).toEqual([
      [flush(1).key, flush(2).key],
      [flush(6).key, flush(7).key],
    ]);
  });

  it("folds a late flush object into a small compacted group, the group's rows stored as its first source's", () => {
    const group = part(1, 4, 40, written(5));
    const plan = planPartition([group, flush(9)], SPAN, CLOSED, 32);
    expect(runKeys(plan)).toEqual([[group.key, flush(9).key]]);
    expect(plan.runs[0]?.sources.map((source) => source.storedAs)).toEqual([id(1), id(9)]);
    expect(plan.runs[0]).toMatchObject({ first: id(1), last: id(9) });
  });

  it("deletes what a group replaced only after the grace period, and stays unsettled until then", () => {
    const group = part(1, 2, 20, written(5));
    const objects = [flush(1), flush(2), group];
    const early = planPartition(objects, SPAN, written(5) + DELETE_AFTER_MS - 1, 32);
    expect([early.deletable, early.runs, early.unsettled]).toEqual([[], [], true]);
    const late = planPartition(objects, SPAN, Math.max(CLOSED, written(5) + DELETE_AFTER_MS), 32);
    expect(late).toEqual({ runs: [], deletable: [flush(1).key, flush(2).key], unsettled: false });
  });
});
