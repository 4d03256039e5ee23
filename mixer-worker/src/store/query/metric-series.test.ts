import { describe, expect, it } from "vitest";
import { MetricSeriesSet, type PartialPoint } from "./metric-series.ts";

const partial = (over: Partial<PartialPoint>): PartialPoint => ({
  name: "m",
  type: "gauge",
  grp: null,
  bucket: 0,
  count: 1,
  sum: 1,
  min: 1,
  max: 1,
  last: 1,
  lastKey: "0",
  ...over,
});

describe("MetricSeriesSet", () => {
  it("merges partial aggregates of one bucket from several batches", () => {
    const set = new MetricSeriesSet(10);
    set.add([partial({ count: 2, sum: 5, min: 2, max: 3, last: 3, lastKey: "0000000000000020" })]);
    set.add([partial({ count: 3, sum: 3, min: 0, max: 2, last: 0, lastKey: "0000000000000010" })]);
    set.add([
      partial({ count: 1, sum: 9, min: 9, max: 9, last: 9, lastKey: "0000000000000030", bucket: 60_000 }),
    ]);
    expect(set.series()).toEqual([
      {
        name: "m",
        type: "gauge",
        grp: null,
        points: [
          { bucket: 0, count: 5, sum: 8, min: 0, max: 3, last: 3 },
          { bucket: 60_000, count: 1, sum: 9, min: 9, max: 9, last: 9 },
        ],
      },
    ]);
  });

  it("keeps the first `limit` series in code point order, null groups last, whatever order they arrive in", () => {
    const set = new MetricSeriesSet(3);
    set.add([partial({ grp: "zeta" }), partial({ grp: null }), partial({ grp: "\u{1F600}" })]);
    expect(set.more).toBe(false);
    set.add([partial({ grp: "\uFFFD" }), partial({ grp: "alpha" })]);
    expect(set.more).toBe(true);
    expect(set.series().map((s) => s.grp)).toEqual(["alpha", "zeta", "\uFFFD"]);
    set.add([partial({ grp: "\u{1F600}", count: 7 })]);
    expect(set.series().map((s) => s.grp)).toEqual(["alpha", "zeta", "\uFFFD"]);
  });
});
