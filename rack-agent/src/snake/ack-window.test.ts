import { expect, it } from "vitest";
import { AckWindow } from "./ack-window.ts";

it("bounds slots by count and by bytes, and serves waiters in order", async () => {
  const window = new AckWindow(2, 100);
  const served: string[] = [];

  expect(window.tryAcquire(60)).toBe(true);
  expect(window.tryAcquire(60)).toBe(false); // over 100 bytes
  const big = window.acquire(60).then(() => served.push("big"));
  const small = window.acquire(10).then(() => served.push("small"));
  expect(window.waitingBytes).toBe(70);
  expect(window.tryAcquire(1)).toBe(false); // nobody jumps the queue

  window.release(60);
  await Promise.all([big, small]);
  expect(served).toEqual(["big", "small"]);
  expect(window.tryAcquire(1)).toBe(false); // two in flight: the count bound
});

it("lets one publish bigger than the byte bound go alone", async () => {
  const window = new AckWindow(4, 100);

  expect(window.tryAcquire(500)).toBe(true);
  const next = window.acquire(500);
  window.release(500);
  await expect(next).resolves.toBeUndefined();
});
