import { describe, expect, it } from "vitest";
import { logsQuerySchema, metricInterval, QUERY_LIMITS, resolveWindow } from "./query-params.ts";

const HOUR = 3_600_000;
const now = Date.UTC(2026, 0, 1, 12);

describe("resolveWindow", () => {
  it("reads relative times back from now, with defaults for what is absent", () => {
    const { since, until } = logsQuerySchema.parse({ since: "1h30m", until: "2026-01-01T12:30:00+01:00" });
    expect(resolveWindow({ since, until }, now, QUERY_LIMITS.defaultListWindowMs)).toEqual({
      ok: true,
      window: { since: now - 1.5 * HOUR, until: now - 0.5 * HOUR },
    });
    expect(resolveWindow({}, now, HOUR)).toEqual({ ok: true, window: { since: now - HOUR, until: now } });
  });

  it("refuses since after until and windows over the maximum, naming since", () => {
    const late = resolveWindow({ since: { at: now }, until: { ago: HOUR } }, now, HOUR);
    expect(late).toMatchObject({ ok: false, problem: { parameter: "since" } });
    const wide = resolveWindow({ since: { ago: QUERY_LIMITS.maxWindowMs + 1 } }, now, HOUR, { since: "x" });
    expect(wide).toMatchObject({ ok: false, problem: { parameter: "since", value: "x" } });
  });
});

describe("metricInterval", () => {
  it("defaults to the finest interval giving at most 60 buckets", () => {
    const pick = (ms: number) => metricInterval(undefined, { since: 0, until: ms }, 50);
    expect(pick(HOUR)).toMatchObject({ name: "1m" });
    expect(pick(5 * HOUR)).toMatchObject({ name: "5m" });
    expect(pick(6 * HOUR)).toMatchObject({ name: "1h" });
    expect(pick(7 * 24 * HOUR)).toMatchObject({ name: "1h", ms: HOUR });
  });
});

describe("time bounds", () => {
  const parses = (since: string) => logsQuerySchema.safeParse({ since }).success;

  it("takes times from 1970 through 9999 and durations up to 3650d", () => {
    for (const ok of [
      "1970-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999Z",
      "2025-06-10T12:00:00+14:00",
      "3650d",
      "1h30m",
    ]) {
      expect([ok, parses(ok)]).toEqual([ok, true]);
    }
  });

  it("refuses times past them, however they are written, instead of failing later", () => {
    const refused = [
      "1969-12-31T23:59:59Z",
      "1970-01-01T00:00:00+00:01",
      "9999-12-31T23:59:59-00:01",
      "+275760-09-13T00:00:00Z",
      "275760-09-13T00:00:00Z",
      "3651d",
      "99999999d",
      "9999999999999999999999999d",
      `${"9".repeat(400)}d`,
      "1e400",
      `2025-06-10T12:00:00${"0".repeat(60)}Z`,
    ];
    for (const bad of refused) expect([bad, parses(bad)]).toEqual([bad, false]);
  });

  it("keeps a default since inside the range", () => {
    const until = { at: QUERY_LIMITS.earliestMs };
    expect(resolveWindow({ until }, now, HOUR)).toEqual({ ok: true, window: { since: 0, until: 0 } });
  });
});

describe("cursor", () => {
  it("is an opaque token here: a payload and a MAC, base64url, of bounded length", () => {
    const token = `${"e".repeat(40)}.${"m".repeat(43)}`;
    expect(logsQuerySchema.parse({ cursor: token }).cursor).toBe(token);
    for (const bad of [
      "e30",
      `${token}.x`,
      `${"e".repeat(401)}.${"m".repeat(43)}`,
      `a+b.${"m".repeat(43)}`,
    ]) {
      expect(logsQuerySchema.safeParse({ cursor: bad }).success).toBe(false);
    }
  });
});
