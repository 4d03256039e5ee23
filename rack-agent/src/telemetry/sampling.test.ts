import { expect, it } from "vitest";
import { isTraceSampled } from "./sampling.ts";
import { newTraceId } from "./trace-ids.ts";

const traces = Array.from({ length: 20_000 }, newTraceId);

it("keeps every trace at 1 and none at 0", () => {
  expect(traces.every((id) => isTraceSampled(id, 1))).toBe(true);
  expect(traces.some((id) => isTraceSampled(id, 0))).toBe(false);
});

it("decides by trace id alone, keeping about the given share", () => {
  const kept = traces.filter((id) => isTraceSampled(id, 0.25));

  expect(kept.every((id) => isTraceSampled(id, 0.25))).toBe(true);
  // 20k random ids: the share is 0.25 ± 0.003 (one standard deviation); the bounds are far outside that.
  expect(kept.length / traces.length).toBeGreaterThan(0.2);
  expect(kept.length / traces.length).toBeLessThan(0.3);
  // A trace kept at a low rate is kept at every higher rate.
  expect(kept.every((id) => isTraceSampled(id, 0.5))).toBe(true);
});
