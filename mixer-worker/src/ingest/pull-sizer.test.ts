import { describe, expect, it } from "vitest";
import { MAX_PULL_BYTES, PullSizer } from "./pull-sizer.ts";

const MiB = 1024 * 1024;

describe("PullSizer", () => {
  it("sizes the first pull from the largest message the bus accepts, the next ones from what came", () => {
    const sizer = new PullSizer(2 * MiB);
    expect(sizer.count(1024)).toBe(MAX_PULL_BYTES / (2 * MiB));
    sizer.saw(8 * 1024);
    expect(sizer.count(1024)).toBe(MAX_PULL_BYTES / (8 * 1024));
  });

  it("keeps a pull of big batches after small ones within the budget", () => {
    const sizer = new PullSizer(2 * MiB);
    for (let i = 0; i < 2_000; i++) sizer.saw(4 * 1024);
    expect(sizer.count(1024)).toBe(1024); // small batches: as many as the buffer holds
    sizer.saw(692_000);
    // One big batch among them sizes the next pull for big batches at once.
    expect(sizer.count(1024) * 692_000).toBeLessThanOrEqual(MAX_PULL_BYTES);
    // Among small ones it is remembered for a while, not averaged away.
    for (let i = 0; i < 20; i++) sizer.saw(4 * 1024);
    expect(sizer.count(1024) * 692_000).toBeLessThanOrEqual(1.2 * MAX_PULL_BYTES);
  });

  it("asks for at least one message, and never more than the room left", () => {
    const sizer = new PullSizer(64 * MiB);
    expect(sizer.count(1024)).toBe(1);
    sizer.saw(10);
    for (let i = 0; i < 10_000; i++) sizer.saw(10);
    expect(sizer.count(7)).toBe(7);
    expect(sizer.count(0)).toBe(1);
  });
});
