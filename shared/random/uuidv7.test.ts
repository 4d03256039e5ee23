import { UUID } from "uuidv7";
import { describe, expect, it, vi } from "vitest";
import { uuidv7 } from "./uuidv7.ts";

describe("uuidv7", () => {
  it("makes RFC 9562 version 7 ids that the uuidv7 package reads back, with the time in the first 48 bits", () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const parsed = UUID.parse(id);
    expect(parsed.getVariant()).toBe("VAR_10");
    expect(parsed.getVersion()).toBe(7);
    expect(parsed.toString()).toBe(id);
    const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it("sorts in the order the ids were made, many to a millisecond, and never repeats", () => {
    const ids = Array.from({ length: 50_000 }, () => uuidv7());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("stays in order when the clock steps back a little, and follows it when it steps back more than 10 s", () => {
    const now = vi.spyOn(Date, "now");
    try {
      now.mockReturnValue(1_900_000_000_000);
      const first = uuidv7();
      now.mockReturnValue(1_900_000_000_000 - 5_000);
      const stepped = uuidv7();
      expect(stepped > first).toBe(true);
      now.mockReturnValue(1_900_000_000_000 - 60_000);
      const reset = uuidv7();
      expect(Number.parseInt(reset.slice(0, 8) + reset.slice(9, 13), 16)).toBe(1_900_000_000_000 - 60_000);
    } finally {
      now.mockRestore();
    }
  });
});
