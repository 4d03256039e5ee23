import { describe, expect, it } from "vitest";
import { ScanSlots } from "./scan-slots.ts";

describe("ScanSlots", () => {
  it("runs at most `running` at once, queues `waiting`, refuses the rest at once", async () => {
    const slots = new ScanSlots(2, 1, 200);
    const a = await slots.acquire();
    const b = await slots.acquire();
    const queued = slots.acquire();
    expect(await slots.acquire()).toBeUndefined();
    a?.();
    // The freed slot goes to the waiter, not back to the pool.
    const c = await queued;
    expect(c).toBeTypeOf("function");
    expect(await slots.acquire()).toBeUndefined();
    b?.();
    c?.();
    // Freeing twice frees once.
    c?.();
    const d = await slots.acquire();
    const e = await slots.acquire();
    expect([d, e].every((f) => typeof f === "function")).toBe(true);
    expect(await Promise.race([slots.acquire(), Promise.resolve("waiting")])).toBe("waiting");
  });

  it("gives up on a waiter after waitMs, and its place in the queue is free again", async () => {
    const slots = new ScanSlots(1, 1, 20);
    const held = await slots.acquire();
    expect(await slots.acquire()).toBeUndefined();
    const again = slots.acquire();
    held?.();
    expect(await again).toBeTypeOf("function");
  });
});
