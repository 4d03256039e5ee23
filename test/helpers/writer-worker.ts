import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { unstable_startWorker } from "wrangler";
import type { TelemetryFileOptions } from "../../mixer-worker/src/store/parquet-writer.ts";
import type { JournalRecord } from "../../shared/journal/record.ts";
import type { RecordOf, TelemetryKind } from "../../shared/telemetry/records.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/** A Worker whose only route runs the mixer's Parquet writer, so Node can hold the files it writes. */
const ENTRY = `import { writeRecordsFile, writeTelemetryFile } from "${join(ROOT, "mixer-worker/src/store/parquet-writer.ts")}";
import { MESSAGE_COLUMNS } from "${join(ROOT, "mixer-worker/src/store/parquet-schema.ts")}";

export default {
  async fetch(request) {
    const { kind, records, options } = await request.json();
    const started = performance.now();
    // Journal records travel as JSON with raw_msg as an array of bytes.
    const bytes =
      kind === "messages"
        ? await writeRecordsFile("messages", MESSAGE_COLUMNS, records.map((r) => ({ ...r, raw_msg: r.raw_msg && Uint8Array.from(r.raw_msg) })), options)
        : await writeTelemetryFile(kind, records, options);
    return new Response(bytes, { headers: { "x-write-ms": String(performance.now() - started) } });
  },
};
`;

const CONFIG = `name = "writer-worker"
main = "entry.js"
compatibility_date = "2026-08-01"
base_dir = "${ROOT}"

[[rules]]
type = "CompiledWasm"
globs = ["**/*.wasm"]
fallthrough = true
`;

export interface WriterWorker {
  /** Writes one file in workerd; `writeMs` is the time the worker itself measured around the writer. */
  write<K extends TelemetryKind>(
    kind: K,
    records: readonly RecordOf<K>[],
    options: TelemetryFileOptions,
  ): Promise<{ bytes: Uint8Array; writeMs: number }>;
  /** Writes one file of journal records (one spec's, or generic) with the mixer's messages writer. */
  writeMessages(
    records: readonly JournalRecord[],
    options: TelemetryFileOptions,
  ): Promise<{ bytes: Uint8Array; writeMs: number }>;
  dispose(): Promise<void>;
}

/**
 * Starts workerd (through wrangler, as `wrangler dev` would: no nodejs_compat, the CompiledWasm rule) with the
 * writer behind one route. The first write loads the 18 MB engine; give it a minute.
 *
 * @example
 * const worker = await startWriterWorker();
 * const { bytes } = await worker.write("logs", records, { format: "parquet", compression: "zstd" });
 * await worker.dispose();
 */
export async function startWriterWorker(): Promise<WriterWorker> {
  // Inside the repository (wrangler's own scratch folder) so the wasm module resolves under the module root.
  const dir = join(ROOT, ".wrangler/tmp/writer-worker");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "entry.js"), ENTRY);
  // Its own config, or wrangler would pick up the mixer's wrangler.toml and its bindings.
  const config = join(dir, "wrangler.toml");
  await writeFile(config, CONFIG);
  const worker = await unstable_startWorker({
    config,
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist: false, logLevel: "warn" },
  });
  await worker.ready;
  const write = async (kind: string, records: readonly object[], options: TelemetryFileOptions) => {
    const response = await worker.fetch("http://writer/", {
      method: "POST",
      body: JSON.stringify({ kind, records, options }, (_, value) =>
        value instanceof Uint8Array ? [...value] : value,
      ),
      signal: AbortSignal.timeout(120_000),
    });
    if (!response.ok) throw new Error(`writer worker answered ${response.status}: ${await response.text()}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { bytes, writeMs: Number(response.headers.get("x-write-ms")) };
  };
  return {
    write,
    writeMessages: (records, options) => write("messages", records, options),
    dispose: () => worker.dispose(),
  };
}
