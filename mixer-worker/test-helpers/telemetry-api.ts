import { SELF } from "cloudflare:test";
import type { JournalRecord } from "../../shared/journal/record.ts";
import type { TelemetryKind, TelemetryRecord } from "../../shared/telemetry/records.ts";
import { getDuckDb } from "../src/store/duckdb.ts";
import { storeRecords } from "../src/store/write-records.ts";
import { mixerEnv } from "./test-rack.ts";

/** The API token of the workers project's mixer (vitest.config.ts). */
export const API_TOKEN = "workers-test-token";

/**
 * GETs a mixer path with the API token (or the given one; `null` sends none) and returns status and JSON.
 *
 * @example const { status, body } = await apiGet("/api/v1/telemetry/logs?level=error");
 */
export async function apiGet<T = Record<string, unknown>>(
  path: string,
  token: string | null = API_TOKEN,
): Promise<{ status: number; type: string | null; body: T }> {
  const res = await SELF.fetch(`http://mixer${path}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as T };
}

/**
 * Stores records through the real ingest path (Parquet written by DuckDB in workerd, put to R2 with the
 * writer's metadata), as `flushes` separate flushes, so partitions hold several objects.
 *
 * @example await storeFlushes("logs", records, 3);
 */
export async function storeFlushes(
  kind: TelemetryKind,
  records: TelemetryRecord[],
  flushes = 1,
): Promise<void> {
  await inFlushes(records, flushes, (slice) => storeRecords(mixerEnv.TELEMETRY, kind, slice, STORAGE));
}

/**
 * Stores journal records as the bridge does (`messages/generic/…` and `messages/fluxSpec/<spec>/…`), as
 * `flushes` separate flushes.
 *
 * @example await storeMessageFlushes(records, 2);
 */
export async function storeMessageFlushes(records: JournalRecord[], flushes = 1): Promise<void> {
  await inFlushes(records, flushes, (slice) => storeRecords(mixerEnv.TELEMETRY, "messages", slice, STORAGE));
}

const STORAGE = { format: "parquet", partition_by: "hour", compression: "zstd" } as const;

async function inFlushes<R>(records: R[], flushes: number, store: (slice: R[]) => Promise<unknown>) {
  const size = Math.ceil(records.length / flushes);
  for (let from = 0; from < records.length; from += size) await store(records.slice(from, from + size));
}

/** Loads DuckDB once for the run (about 10 s the first time); call from a file's beforeAll. */
export const loadEngine = () => getDuckDb();

/**
 * A deterministic UUID v7-shaped id per test file and number, so expected rows can be named.
 *
 * @example testUuid(0x1a, 3) // "0190a0b0-0000-7000-8a1a-000000000003"
 */
export function testUuid(file: number, n: number): string {
  return `0190a0b0-0000-7000-8${file.toString(16).padStart(3, "0")}-${n.toString(16).padStart(12, "0")}`;
}

/** Builds a query string from the defined entries. */
export function qs(params: Record<string, string | number | undefined>): string {
  const defined = Object.entries(params).filter(
    (entry): entry is [string, string | number] => entry[1] !== undefined,
  );
  return new URLSearchParams(defined.map(([k, v]) => [k, String(v)])).toString();
}
