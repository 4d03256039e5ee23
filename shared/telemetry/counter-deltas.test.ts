import { describe, expect, it } from "vitest";
import { CounterDeltas, counterSeries } from "./counter-deltas.ts";

describe("counter deltas", () => {
  it("sends a running total as what it grew by, all of it at first and after a restart", () => {
    const deltas = new CounterDeltas();
    const lane = counterSeries("fluxrig.lane.acked", { lane: "flux.msg.core.sink.in" });
    expect([120, 150, 150, 4, 10].map((total) => deltas.increase(lane, total))).toEqual([120, 30, 0, 4, 6]);
    // Another series (other labels, or the same labels in another order: one series) keeps its own.
    expect(deltas.increase(counterSeries("fluxrig.lane.acked", { lane: "other" }), 7)).toBe(7);
    expect(counterSeries("m", { a: "1", b: "2" })).toBe(counterSeries("m", { b: "2", a: "1" }));
  });
});
