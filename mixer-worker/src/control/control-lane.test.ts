import { describe, expect, it } from "vitest";
import { ControlLane, type ControlLaneLimits, type ControlMessage } from "./control-lane.ts";

const LIMITS: ControlLaneLimits = {
  capacity: 4,
  grant: 2,
  queueBytes: 1_000,
  maxMessageBytes: 100,
  concurrency: 2,
  rate: { burst: 3, perSecond: 1 },
  rateKeys: 100,
};

const message = (subject: string, size = 10): ControlMessage => ({
  subject,
  reply: "",
  data: new Uint8Array(size),
});

/** A lane whose handler waits until released, recording what it handled. */
function heldLane(limits: Partial<ControlLaneLimits> = {}) {
  const handled: ControlMessage[] = [];
  let release = () => {};
  let released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let running = 0;
  let mostAtOnce = 0;
  const lane = new ControlLane(
    "test",
    { ...LIMITS, ...limits },
    {
      keyOf: (m) => m.subject,
      handle: async (m) => {
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        await released;
        handled.push(m);
        running--;
      },
    },
  );
  return {
    lane,
    handled,
    mostAtOnce: () => mostAtOnce,
    release() {
      release();
      released = Promise.resolve();
    },
  };
}

/**
 * Waits, one timer turn at a time, until the lane is idle. A handler takes a turn after each message, and
 * workerd 1.20261102 runs a 0 ms timer no sooner than a 1 ms one (1.20260815 ran thousands in between), so
 * a lane of N messages needs about N turns.
 */
const settled = async (lane: ControlLane) => {
  for (let i = 0; i < 1_000; i++) {
    const s = lane.stats();
    if (s.queue_depth === 0 && s.in_flight === 0) return s;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error("the lane did not settle");
};

describe("ControlLane", () => {
  it("queues up to its capacity, works with bounded concurrency, and sheds the rest as queue_full", async () => {
    const { lane, handled, release, mostAtOnce } = heldLane();
    // Two are taken by handlers at once, four wait, the rest are shed.
    const reasons = Array.from({ length: 10 }, (_, i) => lane.offer(message(`s.${i}`)));
    expect(reasons).toEqual([...Array(6).fill(undefined), ...Array(4).fill("queue_full")]);
    expect(lane.stats()).toMatchObject({ received: 10, in_flight: 2, queue_depth: 4, processed: 0 });
    release();
    const stats = await settled(lane);
    expect(handled.map((m) => m.subject)).toEqual(["s.0", "s.1", "s.2", "s.3", "s.4", "s.5"]);
    expect(mostAtOnce()).toBe(2);
    expect(stats).toEqual({
      received: 10,
      processed: 6,
      failed: 0,
      in_flight: 0,
      queue_depth: 0,
      shed: { queue_full: 4, rate_limited: 0, oversize: 0 },
      paused: false,
      pauses: 0,
    });
  });

  it("tells its source to pause when the queue fills, and calls it back once the queue has drained to half", async () => {
    const calls: string[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const lane: ControlLane = new ControlLane(
      "test",
      { ...LIMITS, capacity: 4, concurrency: 1 },
      {
        keyOf: (m) => m.subject,
        handle: async (m) => {
          calls.push(`handle ${m.subject}`);
          await held;
        },
        pause: () => {
          calls.push("pause");
          lane.whenReady(() => calls.push("ready"));
        },
      },
    );
    for (let i = 0; i < 8; i++) lane.offer(message(`s.${i}`));
    // s.0 is handled, s.1–s.4 wait, s.5 finds the queue full: one pause, however many are shed after it.
    expect(calls).toEqual(["handle s.0", "pause"]);
    expect(lane.stats()).toMatchObject({ paused: true, pauses: 1, shed: { queue_full: 3 } });
    release();
    await settled(lane);
    expect(calls).toEqual([
      "handle s.0",
      "pause",
      "handle s.1",
      "ready",
      "handle s.2",
      "handle s.3",
      "handle s.4",
    ]);
    expect(lane.stats()).toMatchObject({ paused: false, pauses: 1 });
  });

  it("says at once when its source may send more, or waits (a pause) until the queue is half empty", async () => {
    const { lane, release } = heldLane({ concurrency: 1 });
    let ready = 0;
    lane.whenReady(() => ready++);
    expect(ready).toBe(1);
    for (let i = 0; i < 4; i++) lane.offer(message(`s.${i}`)); // one handled, three waiting: over half
    lane.whenReady(() => ready++);
    expect(ready).toBe(1);
    expect(lane.stats()).toMatchObject({ paused: true, pauses: 1 });
    release();
    await settled(lane);
    expect(ready).toBe(2);
    expect(lane.stats()).toMatchObject({ paused: false, pauses: 1 });
  });

  it("refuses a grant that could overfill a half-full queue", () => {
    const lane = () =>
      new ControlLane("test", { ...LIMITS, grant: 3 }, { keyOf: String, handle: async () => {} });
    expect(lane).toThrow("grant 3 must be between 1 and half its capacity");
  });

  it("holds its queue to a byte budget as well as a count", () => {
    const { lane } = heldLane({ concurrency: 1, queueBytes: 200 });
    expect(lane.offer(message("a", 90))).toBeUndefined(); // taken by the handler at once
    expect(lane.offer(message("b", 90))).toBeUndefined();
    expect(lane.offer(message("c", 90))).toBeUndefined();
    expect(lane.offer(message("d", 90))).toBe("queue_full");
    expect(lane.offer(message("e", 5))).toBeUndefined();
  });

  it("sheds oversize messages and senders over their rate, and counts each reason", async () => {
    const { lane, release } = heldLane({ capacity: 100 });
    expect(lane.offer(message("big", 101))).toBe("oversize");
    const hot = Array.from({ length: 5 }, () => lane.offer(message("hot")));
    expect(hot).toEqual([undefined, undefined, undefined, "rate_limited", "rate_limited"]);
    expect(lane.offer(message("other"))).toBeUndefined();
    // A second later the sender has a token again.
    expect(lane.offer(message("hot"), Date.now() + 1_000)).toBeUndefined();
    release();
    const stats = await settled(lane);
    expect(stats.shed).toEqual({ queue_full: 0, rate_limited: 2, oversize: 1 });
    expect(stats.received).toBe(stats.processed + 3);
  });

  it("asks for a sender's key only when the message could be queued", () => {
    const keys: string[] = [];
    const lane = new ControlLane(
      "test",
      { ...LIMITS, capacity: 2, grant: 1, concurrency: 1 },
      {
        keyOf: (m) => {
          keys.push(m.subject);
          return m.subject;
        },
        handle: () => new Promise(() => {}),
      },
    );
    for (const subject of ["big", "first", "second", "third", "fourth"]) {
      lane.offer(message(subject, subject === "big" ? 101 : 10));
    }
    // big is oversize; first is taken by the handler, second and third wait; fourth finds the queue full.
    expect(keys).toEqual(["first", "second", "third"]);
  });

  it("keeps its own copy of the payload, not the connection's buffer", async () => {
    const { lane, handled, release } = heldLane();
    const buffer = new Uint8Array([1, 2, 3, 4]);
    lane.offer({ subject: "s", data: buffer.subarray(1, 3) });
    buffer.fill(0);
    release();
    await settled(lane);
    expect([...(handled[0]?.data ?? [])]).toEqual([2, 3]);
    expect(handled[0]?.data.buffer.byteLength).toBe(2);
  });

  it("counts a handler's failure as processed and failed, and goes on", async () => {
    const seen: string[] = [];
    const lane = new ControlLane("test", LIMITS, {
      keyOf: (m) => m.subject,
      handle: async (m) => {
        seen.push(m.subject);
        if (m.subject === "bad") throw new Error("D1 is down");
      },
    });
    lane.offer(message("bad"));
    lane.offer(message("good"));
    const stats = await settled(lane);
    expect(seen).toEqual(["bad", "good"]);
    expect(stats).toMatchObject({ received: 2, processed: 2, failed: 1 });
  });

  it("rations its handlers' warnings, so a flood of bad messages is not a flood of log lines", async () => {
    const logged: unknown[] = [];
    const warn = console.warn;
    console.warn = (line: unknown) => logged.push(line);
    try {
      const lane = new ControlLane(
        "test",
        { ...LIMITS, capacity: 100, rateKeys: 100 },
        { keyOf: (m) => m.subject, handle: async (m, note) => note(`ignored ${m.subject}`) },
      );
      for (let i = 0; i < 50; i++) lane.offer(message(`s.${i}`));
      await settled(lane);
    } finally {
      console.warn = warn;
    }
    expect(logged).toHaveLength(20);
    expect(logged[0]).toBe("ignored s.0");
  });

  it("lets timers run between the messages it handles", async () => {
    const lane = new ControlLane(
      "test",
      { ...LIMITS, capacity: 1_000, queueBytes: 1_000_000, concurrency: 1, rateKeys: 1_000 },
      { keyOf: (m) => m.subject, handle: async () => {} },
    );
    for (let i = 0; i < 200; i++) lane.offer(message(`s.${i}`));
    const processedWhenTimerRan = await new Promise<number>((resolve) =>
      setTimeout(() => resolve(lane.stats().processed), 0),
    );
    expect(processedWhenTimerRan).toBe(1);
    expect((await settled(lane)).processed).toBe(200);
  });
});
