import { describe, expect, it } from "vitest";
import { sparkline } from "./sparkline.ts";

describe("sparkline", () => {
  it("scales from the smallest to the largest value, gaps blank", () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe("▁▂▃▄▅▆▇█");
    expect(sparkline([5, undefined, 10])).toBe("▁ █");
    expect(sparkline([2, 2, 2])).toBe("▄▄▄");
    expect(sparkline([undefined])).toBe("");
  });

  it("averages neighbours into at most `width` bars", () => {
    expect(sparkline([0, 0, 10, 10, 5, undefined], 3)).toBe("▁█▅");
    expect(sparkline(Array.from({ length: 288 }, (_, i) => i)).length).toBe(60);
  });
});
