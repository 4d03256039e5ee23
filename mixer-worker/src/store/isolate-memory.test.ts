import { describe, expect, it } from "vitest";
import { engineBytes } from "./isolate-memory.ts";
import { writeTelemetryFile } from "./parquet-writer.ts";
import { syntheticLogs } from "./sample-records.ts";

const MiB = 1_048_576;

describe("the isolate's memory on the ingest path", () => {
  it("a full flush (50k log records, the most one object holds) leaves the isolate's wasm memory under 96 MiB", async () => {
    const records = syntheticLogs(50_000);
    const bytes = await writeTelemetryFile("logs", records, { format: "parquet", compression: "zstd" });
    expect(bytes.byteLength).toBeGreaterThan(0);
    // Linear memory never shrinks: this is the high-water mark of the flush (zstd's; DuckDB's too if this
    // isolate's earlier tests started it). Through DuckDB a flush took its engine to 48 MiB.
    const wasm = engineBytes();
    console.log(`wasm linear memory after a 50k-record flush: ${(wasm / MiB).toFixed(1)} MiB`);
    expect(wasm).toBeGreaterThan(0);
    expect(wasm).toBeLessThanOrEqual(96 * MiB);
  }, 120_000);
});
