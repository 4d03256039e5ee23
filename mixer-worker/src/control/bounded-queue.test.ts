import { describe, expect, it } from "vitest";
import { BoundedQueue } from "./bounded-queue.ts";

describe("BoundedQueue", () => {
  it("hands items back oldest first and refuses one past its capacity", () => {
    const queue = new BoundedQueue<number>(3);
    expect([1, 2, 3, 4].map((n) => queue.push(n))).toEqual([true, true, true, false]);
    expect(queue.length).toBe(3);
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual([1, 2, 3, undefined]);
    expect(queue.length).toBe(0);
  });

  it("keeps its order across many wraps of the ring", () => {
    const queue = new BoundedQueue<number>(4);
    const out: number[] = [];
    for (let n = 0; n < 100; n++) {
      expect(queue.push(n)).toBe(true);
      if (queue.length === 3) out.push(queue.shift() as number, queue.shift() as number);
    }
    while (queue.length > 0) out.push(queue.shift() as number);
    expect(out).toEqual(Array.from({ length: 100 }, (_, n) => n));
  });

  it("has room again once an item is taken", () => {
    const queue = new BoundedQueue<string>(1);
    queue.push("a");
    expect(queue.push("b")).toBe(false);
    queue.shift();
    expect(queue.push("b")).toBe(true);
    expect(queue.shift()).toBe("b");
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new BoundedQueue(0)).toThrow("positive integer, not 0");
    expect(() => new BoundedQueue(1.5)).toThrow(RangeError);
  });
});
