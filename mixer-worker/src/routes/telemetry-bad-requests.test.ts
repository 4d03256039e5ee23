import { describe, expect, it } from "vitest";
import { apiGet } from "../../test-helpers/telemetry-api.ts";
import { mixerEnv } from "../../test-helpers/test-rack.ts";
import { sealPageCursor } from "../http/page-cursor.ts";

const LOGS = "/api/v1/telemetry/logs";
const TRACES = "/api/v1/telemetry/traces";
const METRICS = "/api/v1/telemetry/metrics";
const TRACE = `${TRACES}/${"a".repeat(32)}`;
const position = { since: 0, until: 1_000, ts: 500, id: "0190a0b0-0000-7000-8000-000000000001" };
const cursor = await sealPageCursor(mixerEnv, "logs", {}, position);

/** Each request, and the parameter its 400 must name. */
const BAD: [path: string, parameter: string][] = [
  [`${LOGS}?level=fatal`, "level"],
  [`${LOGS}?level=ERROR`, "level"],
  [`${LOGS}?since=yesterday`, "since"],
  [`${LOGS}?since=2025-13-01T00:00:00Z`, "since"],
  [`${LOGS}?since=2025-06-10T12:00:00`, "since"],
  [`${LOGS}?since=P1D`, "since"],
  [`${LOGS}?until=12:00`, "until"],
  [`${LOGS}?until=-1h`, "until"],
  [`${LOGS}?since=2025-06-10T12:00:00Z&until=2025-06-10T11:00:00Z`, "since"],
  [`${LOGS}?since=2025-06-01T00:00:00Z&until=2025-06-10T00:00:00Z`, "since"],
  [`${LOGS}?since=8d`, "since"],
  [`${LOGS}?since=99999999d`, "since"],
  [`${LOGS}?since=3651d`, "since"],
  [`${LOGS}?until=9999999999999999999999d`, "until"],
  [`${LOGS}?since=1e400`, "since"],
  [`${LOGS}?until=%2B275760-09-13T00:00:00Z`, "until"],
  [`${LOGS}?since=1969-12-31T23:59:59Z`, "since"],
  [`${LOGS}?until=9999-12-31T23:59:59-00:01`, "until"],
  [`${LOGS}?since=${"1".repeat(2_000)}d`, "since"],
  [`${LOGS}?rack_id=rack-nyc-01`, "rack_id"],
  [`${LOGS}?flux_id=123`, "flux_id"],
  [`${LOGS}?gear_id=`, "gear_id"],
  [`${LOGS}?q=`, "q"],
  [`${LOGS}?q=${"x".repeat(201)}`, "q"],
  [`${LOGS}?q=a%00b`, "q"],
  [`${LOGS}?entity=${"e".repeat(254)}`, "entity"],
  [`${LOGS}?limit=0`, "limit"],
  [`${LOGS}?limit=1001`, "limit"],
  [`${LOGS}?limit=abc`, "limit"],
  [`${LOGS}?limit=1.5`, "limit"],
  [`${LOGS}?limit=-5`, "limit"],
  [`${LOGS}?offset=-1`, "offset"],
  [`${LOGS}?offset=10001`, "offset"],
  [`${LOGS}?cursor=not-a-cursor`, "cursor"],
  [`${LOGS}?cursor=${cursor}&offset=5`, "offset"],
  [`${LOGS}?levle=error`, "levle"],
  [`${LOGS}?level=info&level=warn`, "level"],
  [`${TRACES}?status=failed`, "status"],
  [`${TRACES}?min_duration_ms=-5`, "min_duration_ms"],
  [`${TRACES}?min_duration_ms=abc`, "min_duration_ms"],
  [`${TRACES}?flux_id=${"f".repeat(36)}`, "flux_id"],
  [`${TRACES}?level=error`, "level"],
  [`${TRACES}/xyz`, "trace_id"],
  [`${TRACES}/${"A".repeat(32)}`, "trace_id"],
  [`${TRACE}?limit=5`, "limit"],
  [`${TRACE}?since=tomorrow`, "since"],
  [`${TRACE}?until=99999999d`, "until"],
  [`${TRACES}?since=+275760-09-13T00:00:00Z`, "since"],
  [`${METRICS}?interval=2m`, "interval"],
  [`${METRICS}?interval=1m&since=7d`, "interval"],
  [`${METRICS}?group_by=a%20b`, "group_by"],
  [`${METRICS}?limit=501`, "limit"],
  [`${METRICS}?limit=500&interval=1m&since=12h`, "limit"],
  [`${METRICS}?q=x`, "q"],
  [`${METRICS}/9lives`, "metric_name"],
  [`${METRICS}/fx.ok?interval=1d`, "interval"],
  [`${METRICS}?since=99999999d`, "since"],
  [`${METRICS}/fx.ok?until=0001-01-01T00:00:00Z`, "until"],
  [`${METRICS}/${"m".repeat(256)}`, "metric_name"],
];

describe("bad query parameters", () => {
  it(`answers each of ${BAD.length} bad requests with 400 problem+json naming the parameter, the value and what is allowed`, async () => {
    expect(BAD.length).toBeGreaterThanOrEqual(30);
    for (const [path, parameter] of BAD) {
      const { status, type, body } = await apiGet<Record<string, string>>(path);
      expect([path, status, type]).toEqual([path, 400, "application/problem+json"]);
      expect([path, body.parameter]).toEqual([path, parameter]);
      expect(typeof body.value, path).toBe("string");
      expect(body.allowed, path).toBeTruthy();
      expect(body.detail, path).toContain(`${parameter} must be ${body.allowed}`);
    }
  });

  it("says what was given and what is allowed in words", async () => {
    const { body } = await apiGet<Record<string, string>>(`${LOGS}?level=fatal`);
    expect(body).toMatchObject({
      status: 400,
      parameter: "level",
      value: "fatal",
      detail: 'level must be one of debug, info, warn, error (that level and above); got "fatal"',
    });
    const window = await apiGet<Record<string, string>>(`${LOGS}?since=8d`);
    expect(window.body.allowed).toBe("a time at most 168h before until (the window is 192h)");
    const unknown = await apiGet<Record<string, string>>(`${LOGS}?levle=error`);
    expect(unknown.body.allowed).toContain("level, rack_id, gear_id");
    const huge = await apiGet<Record<string, string>>(`${LOGS}?since=${"1".repeat(2_000)}d`);
    expect(huge.body.value).toBe(`${"1".repeat(200)}… (2001 characters)`);
    expect(huge.body.allowed).toContain("from 1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z");
  });
});
