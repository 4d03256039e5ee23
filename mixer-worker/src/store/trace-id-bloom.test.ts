import { describe, expect, it } from "vitest";
import { mayHoldTrace, traceBloom, traceBloomShape } from "./trace-id-bloom.ts";

const hex = (seed: number) =>
  Array.from({ length: 4 }, (_, i) =>
    ((Math.imul(seed + i * 7919, 2654435761) >>> 0) ^ (seed * 97)).toString(16).padStart(8, "0"),
  ).join("");

describe("trace id Bloom filters", () => {
  it("never miss an id they hold, and say maybe to about 1% of others", () => {
    const held = Array.from({ length: 20_000 }, (_, i) => hex(i));
    const shape = traceBloomShape(held.length);
    const bytes = traceBloom(held, shape);
    expect(held.every((id) => mayHoldTrace(bytes, shape, id))).toBe(true);
    const others = Array.from({ length: 20_000 }, (_, i) => hex(1_000_000 + i));
    const maybe = others.filter((id) => mayHoldTrace(bytes, shape, id)).length;
    expect(maybe / others.length).toBeLessThan(0.02);
    // Low-entropy ids (a sender's counter, zero-padded) spread as well.
    const counted = Array.from({ length: 5_000 }, (_, i) => i.toString(16).padStart(32, "0"));
    const small = traceBloom(counted, traceBloomShape(counted.length));
    const strangers = Array.from({ length: 5_000 }, (_, i) => (i + 10_000).toString(16).padStart(32, "0"));
    const falsePositives = strangers.filter((id) => mayHoldTrace(small, traceBloomShape(5_000), id)).length;
    expect(falsePositives / strangers.length).toBeLessThan(0.03);
    // A filter of another shape than its metadata says is not trusted to exclude anything.
    expect(mayHoldTrace(bytes.slice(1), shape, others[0] as string)).toBe(true);
  });
});
