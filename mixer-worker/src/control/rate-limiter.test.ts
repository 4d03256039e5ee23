import { describe, expect, it } from "vitest";
import { KeyedRateLimiter } from "./rate-limiter.ts";

const takes = (limiter: KeyedRateLimiter, key: string, now: number, n: number) =>
  Array.from({ length: n }, () => limiter.take(key, now)).filter(Boolean).length;

describe("KeyedRateLimiter", () => {
  it("lets a burst through, then one message per refilled token", () => {
    const limiter = new KeyedRateLimiter({ burst: 3, perSecond: 2 }, 10);
    expect(takes(limiter, "rack-a", 0, 10)).toBe(3);
    expect(takes(limiter, "rack-a", 499, 10)).toBe(0);
    expect(takes(limiter, "rack-a", 500, 10)).toBe(1);
    // A long silence refills no more than the burst.
    expect(takes(limiter, "rack-a", 60_000, 10)).toBe(3);
  });

  it("keeps each key's bucket apart", () => {
    const limiter = new KeyedRateLimiter({ burst: 1, perSecond: 1 }, 10);
    expect(limiter.take("rack-a", 0)).toBe(true);
    expect(limiter.take("rack-a", 0)).toBe(false);
    expect(limiter.take("rack-b", 0)).toBe(true);
  });

  it("holds at most maxKeys buckets, forgetting the least recently used", () => {
    const limiter = new KeyedRateLimiter({ burst: 1, perSecond: 0.001 }, 3);
    for (const key of ["a", "b", "c"]) expect(limiter.take(key, 0)).toBe(true);
    expect(limiter.take("a", 1)).toBe(false); // a is now the most recently used, b the least
    expect(limiter.take("d", 2)).toBe(true); // room for d: b goes
    expect(limiter.take("a", 3)).toBe(false); // a kept its empty bucket
    expect(limiter.take("b", 4)).toBe(true); // b starts again with a full one
    for (let n = 0; n < 10_000; n++) limiter.take(`flood-${n}`, 5);
    expect(limiter.size).toBe(3);
  });

  it("neither refills nor drains when the clock goes back", () => {
    const limiter = new KeyedRateLimiter({ burst: 2, perSecond: 1 }, 10);
    expect(takes(limiter, "rack-a", 10_000, 2)).toBe(2);
    expect(limiter.take("rack-a", 5_000)).toBe(false);
    expect(limiter.take("rack-a", 11_000)).toBe(true);
  });

  it("refuses limits that would refuse everything", () => {
    expect(() => new KeyedRateLimiter({ burst: 0, perSecond: 1 }, 10)).toThrow(RangeError);
    expect(() => new KeyedRateLimiter({ burst: 1, perSecond: 1 }, 0)).toThrow("maxKeys");
  });
});
