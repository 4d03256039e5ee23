import { describe, expect, it } from "vitest";
import {
  encodeCursor,
  logsQuerySchema,
  metricInterval,
  QUERY_LIMITS,
  resolveWindow,
} from "./query-params.ts";

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

describe("cursor", () => {
  it("round-trips through the logs schema, lower-casing the id", () => {
    const cursor = { since: 1, until: 2, ts: 3, id: "0190A0B0-0000-7000-8000-00000000000F" };
    expect(logsQuerySchema.parse({ cursor: encodeCursor(cursor) }).cursor).toEqual({
      ...cursor,
      id: cursor.id.toLowerCase(),
    });
    expect(logsQuerySchema.safeParse({ cursor: "e30" }).success).toBe(false);
    const wide = encodeCursor({ since: 0, until: QUERY_LIMITS.maxWindowMs + 1, ts: 1, id: cursor.id });
    expect(logsQuerySchema.safeParse({ cursor: wide }).success).toBe(false);
  });
});
