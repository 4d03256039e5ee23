import { describe, expect, it } from "vitest";
import { toBase64Url } from "../../../shared/passport/index.ts";
import { QUERY_LIMITS } from "../../../shared/telemetry/query-params.ts";
import { apiGet, qs } from "../../test-helpers/telemetry-api.ts";
import { mixerEnv } from "../../test-helpers/test-rack.ts";
import { sealPageCursor } from "../http/page-cursor.ts";

const LOGS = "/api/v1/telemetry/logs";
const ID = "0190a0b0-0000-7000-8000-000000000001";
const NOW = Date.UTC(2026, 0, 1);
const position = { since: NOW - 3_600_000, until: NOW, ts: NOW - 60_000, id: ID };
const json64 = (value: unknown) => toBase64Url(new TextEncoder().encode(JSON.stringify(value)));

/** A logs request with `cursor`, which must be a 400 naming it. */
async function refused(cursor: string, filters: Record<string, string> = {}) {
  const { status, type, body } = await apiGet<Record<string, string>>(
    `${LOGS}?${qs({ ...filters, cursor })}`,
  );
  expect([status, type, body.parameter], cursor).toEqual([400, "application/problem+json", "cursor"]);
  expect(body.allowed).toContain("same filters");
}

describe("page cursors", () => {
  it("are taken back for the endpoint and filters they were made for", async () => {
    const cursor = (await sealPageCursor(mixerEnv, "logs", { level: "error" }, position)) as string;
    const { status, body } = await apiGet<{ window: unknown }>(`${LOGS}?${qs({ level: "error", cursor })}`);
    expect(status).toBe(200);
    expect(body.window).toEqual({ since: "2025-12-31T23:00:00.000Z", until: "2026-01-01T00:00:00.000Z" });
  });

  it("are refused with other filters, on another endpoint, or from another cluster key", async () => {
    const cursor = (await sealPageCursor(mixerEnv, "logs", { level: "error" }, position)) as string;
    await refused(cursor);
    await refused(cursor, { level: "warn" });
    await refused(cursor, { level: "error", q: "x" });
    const traces = await apiGet<Record<string, string>>(`/api/v1/telemetry/traces?${qs({ cursor })}`);
    expect([traces.status, traces.body.parameter]).toEqual([400, "cursor"]);
    const otherKey = { ...mixerEnv, MIXER_CLUSTER_KEY: "another cluster's key" };
    await refused((await sealPageCursor(otherKey, "logs", {}, position)) as string);
  });

  it("are refused when tampered with, made up, or signed over values out of range", async () => {
    const cursor = (await sealPageCursor(mixerEnv, "logs", {}, position)) as string;
    const [body, mac] = cursor.split(".") as [string, string];
    // The old unsigned layout, and a payload that widens the window, each under the genuine MAC.
    const wide = json64({ s: 0, u: NOW, t: NOW, i: ID });
    for (const forged of [`${wide}.${mac}`, `${body}.${mac.replace(/^./, (c) => (c === "A" ? "B" : "A"))}`]) {
      await refused(forged);
    }
    await refused(json64({ s: 0, u: 1_000, t: 500, i: ID }));
    await refused(`${json64({ s: 1e300, u: 8.64e15 + 1, t: -1, i: ID })}.${"A".repeat(43)}`);
    // Signed by this mixer, yet checked whole: a window over the limit, times past the range, NaN.
    for (const absurd of [
      { ...position, since: 0, until: QUERY_LIMITS.maxWindowMs + 1 },
      { ...position, until: QUERY_LIMITS.latestMs + 1 },
      { ...position, ts: Number.NaN },
      { ...position, id: "' OR 1=1 --" },
    ]) {
      await refused((await sealPageCursor(mixerEnv, "logs", {}, absurd)) as string);
    }
  });
});
