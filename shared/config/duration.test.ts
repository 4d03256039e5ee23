import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.ts";
import { parseSize } from "./size.ts";

describe("durations", () => {
  it.each([
    ["100ms", 100],
    ["15s", 15_000],
    ["1h", 3_600_000],
    ["720h", 2_592_000_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1_500],
    ["2d", 172_800_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each(["", "15", "s", "1x", "1h 30m", "-5s", "abc", "1e20h", `${"9".repeat(400)}h`])(
    "refuses %j, without quoting it (it may come from a ${VAR})",
    (text) => {
      const parsed = parseDuration(text);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toMatch(/^expected a duration such as "100ms"/);
    },
  );

  it("formats back to the shortest form", () => {
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(0)).toBe("0s");
  });
});

describe("sizes", () => {
  it.each([
    [2097152, 2097152],
    ["2MiB", 2097152],
    ["512KB", 512_000],
    ["1gib", 1_073_741_824],
    ["100", 100],
  ] as const)("%j is %d bytes", (input, bytes) => {
    expect(parseSize(input)).toEqual({ ok: true, bytes });
  });

  it.each([-1, 1.5, "2 parsecs", "MB", ""])("refuses %j", (input) => {
    expect(parseSize(input).ok).toBe(false);
  });
});
