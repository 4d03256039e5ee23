import { beforeAll, describe, expect, it } from "vitest";
import type { LogsAnswer } from "../../../../shared/telemetry/query-results.ts";
import type { LogRecord } from "../../../../shared/telemetry/records.ts";
import { apiGet, loadEngine, qs, storeFlushes, testUuid } from "../../../test-helpers/telemetry-api.ts";

const T0 = Date.UTC(2025, 6, 1, 10);
const RECORD = testUuid(0x3c, 1);
const log = (ts: number, message: string, record_id = RECORD): LogRecord => ({
  record_id,
  ts,
  entity_id: testUuid(0x3c, 0xa),
  entity_name: "rack-a",
  flux_id: null,
  level: "info",
  message,
  attributes: {},
});

beforeAll(async () => {
  await loadEngine();
  // The genuine record first; then the same id republished with newer times, in the same hour partition and
  // in the next (later objects, newer rows: what a newest-first read meets first).
  await storeFlushes("logs", [log(T0, "genuine"), log(T0 + 300_000, "neighbour", testUuid(0x3c, 2))]);
  await storeFlushes("logs", [log(T0 + 1_800_000, "forged, same hour")]);
  await storeFlushes("logs", [log(T0 + 5_400_000, "forged, next hour")]);
}, 300_000);

describe("a record id stored again with another time", () => {
  it("answers with the first stored copy, not the newest claimed", async () => {
    const { status, body } = await apiGet<LogsAnswer>(
      `/api/v1/telemetry/logs?${qs({ since: "2025-07-01T10:00:00Z", until: "2025-07-01T12:00:00Z" })}`,
    );
    expect(status).toBe(200);
    expect(body.logs.map((l) => [l.ts, l.message])).toEqual([
      ["2025-07-01T10:05:00.000Z", "neighbour"],
      ["2025-07-01T10:00:00.000Z", "genuine"],
    ]);
  });

  it("pages through the same answer one row at a time", async () => {
    const first = await apiGet<LogsAnswer>(
      `/api/v1/telemetry/logs?${qs({ since: "2025-07-01T10:00:00Z", until: "2025-07-01T12:00:00Z", limit: 1 })}`,
    );
    expect(first.body.logs.map((l) => l.message)).toEqual(["neighbour"]);
    const next = await apiGet<LogsAnswer>(
      `/api/v1/telemetry/logs?${qs({ limit: 1, cursor: first.body.next ?? "" })}`,
    );
    expect(next.body.logs.map((l) => l.message)).toEqual(["genuine"]);
  });
});
