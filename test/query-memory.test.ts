import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ISOLATE_MEMORY_HEADER } from "../mixer-worker/src/http/query-admission.ts";
import { messagesSelection, pageSql } from "../mixer-worker/src/store/query/index.ts";
import type { MessagesAnswer } from "../shared/journal/query-results.ts";
import { type MessagesStoreMixer, startMixerWithMessages } from "./helpers/messages-store.ts";
import { sqlString } from "./helpers/native-duckdb.ts";
import { MIXER_START_MS, type TestMixer } from "./helpers/test-mixer.ts";

/**
 * The mixer must fit a deployed isolate (128 MB): a 24 h scan of every message, run again and again and 32
 * at a time, answers every time (200, or 503 with Retry-After when the isolate is busy), within its memory
 * bound, and the Worker is still there afterwards. The store: 24 hourly objects of 8,000 journaled messages
 * (192k rows, about 15 MB of zstd Parquet, random raw bytes), written natively as the benchmark writes its
 * larger one (`npm run bench:query -- --only messages` prints the same figures for 10M rows).
 */
const HOUR = 3_600_000;
const END = Math.floor(Date.now() / HOUR) * HOUR;
const SINCE = END - 24 * HOUR;
const MiB = 1_048_576;
/** The memory bound every query answer must report (the isolate has 128 MB; ours is 96). */
const PEAK_BOUND = 96 * MiB;

let store: MessagesStoreMixer;
let mixer: TestMixer;
let expected: string[];
/** A promoted amount of the oldest hour's messages (see beforeAll). */
let amount: string;

/** GETs the scan with a timeout of our own (queued scans wait for a slot before they run). */
const scan = (): Promise<Response> =>
  fetch(
    `${mixer.apiUrl}/api/v1/messages?${new URLSearchParams({
      since: new Date(SINCE).toISOString(),
      until: new Date(END).toISOString(),
      limit: "50",
      gear_id: "hsm",
      "promoted.amount": amount,
    })}`,
    {
      headers: { authorization: `Bearer ${mixer.env.FLUXRIG_API_TOKEN}` },
      signal: AbortSignal.timeout(170_000),
    },
  );

/** The peak and DuckDB's linear memory an answer reports (bytes). */
function memoryOf(res: Response): { wasm: number; peak: number } {
  const header = res.headers.get(ISOLATE_MEMORY_HEADER) ?? "";
  const fields = Object.fromEntries(header.split(", ").map((pair) => pair.split("=")));
  return { wasm: Number(fields.wasm), peak: Number(fields.peak) };
}

beforeAll(async () => {
  store = await startMixerWithMessages("fluxrig-query-memory-", END, {
    rows: 24 * 8_000,
    rowsPerObject: 8_000,
    // What the scan must answer, as native DuckDB reads the same files.
    inspect: async (native, { tree, amount }) => {
      const sql = pageSql(
        messagesSelection(
          { gear_id: "hsm", promoted: { amount }, include_raw: false },
          { since: SINCE, until: END },
        ),
        `read_parquet(${sqlString(join(tree, "messages", "**", "*.parquet"))}, filename=true)`,
        51,
      );
      const rows = (await native.runAndReadAll(sql)).getRowObjectsJS();
      expected = rows
        .filter((row) => String(JSON.parse(String(row.promoted)).amount) === amount)
        .map((row) => String(row.record_id));
    },
  });
  ({ mixer, amount } = store);
}, MIXER_START_MS + 60_000);

afterAll(async () => {
  await store?.dispose();
});

describe("a 24 h scan of every message within the isolate's memory", () => {
  it("answers every one of repeated scans, the same rows each time, within 96 MiB", async () => {
    expect(expected.length).toBeGreaterThan(0);
    for (let run = 0; run < 6; run++) {
      const res = await scan();
      const body = (await res.json()) as MessagesAnswer;
      expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(200);
      expect(body.truncated, body.truncated_reason).toBe(false);
      expect(body.messages.map((m) => m.record_id)).toEqual(expected);
      expect(memoryOf(res).peak).toBeLessThanOrEqual(PEAK_BOUND);
    }
  }, 600_000);

  it("answers 32 concurrent scans 200 or 503 (problem+json, Retry-After), and memory holds", async () => {
    const answers = await Promise.all(
      Array.from({ length: 32 }, async () => {
        const res = await scan();
        return { res, body: (await res.json()) as MessagesAnswer & { detail?: string } };
      }),
    );
    const statuses = answers.map(({ res }) => res.status);
    expect(
      statuses.every((status) => status === 200 || status === 503),
      statuses.join(),
    ).toBe(true);
    const served = answers.filter(({ res }) => res.status === 200);
    expect(served.length).toBeGreaterThanOrEqual(2);
    for (const { res, body } of served) {
      expect(body.messages.map((m) => m.record_id)).toEqual(expected);
      expect(memoryOf(res).peak).toBeLessThanOrEqual(PEAK_BOUND);
    }
    for (const { res, body } of answers.filter(({ res }) => res.status === 503)) {
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(body.detail).toMatch(/queries are reading the store/);
    }
    // The Worker is still there and still within its bound.
    const after = await scan();
    expect(after.status).toBe(200);
    await after.arrayBuffer();
    expect(memoryOf(after).wasm).toBeLessThanOrEqual(PEAK_BOUND);
  }, 600_000);
});
