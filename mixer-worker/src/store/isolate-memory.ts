/**
 * Counters of the memory a Worker isolate is charged for that the store controls: DuckDB's linear memory (a
 * `WebAssembly.Memory`, which grows and never shrinks) and the object bytes fetched from R2 and held in JS
 * until the engine has its copy. A deployed isolate has 128 MB and local workerd enforces nothing, so every
 * query reports what it cost (see {@link watchIsolateMemory}) and the benchmark prints it.
 */

/** The engine's linear memory; replaced when a trap makes the store start a new engine. */
let engineMemory: WebAssembly.Memory | undefined;
/** Fetched object bytes held in JS right now, across all requests of the isolate. */
let heldBytes = 0;
const watches = new Set<Watch>();

interface Watch {
  wasmAtStart: number;
  heldPeak: number;
  peak: number;
}

/** What one request cost the isolate, in bytes. */
export interface IsolateMemoryReport {
  /** DuckDB's linear memory when the request ended: the isolate's high-water mark so far (it never shrinks). */
  wasm: number;
  /** How much the request grew it. */
  wasmGrowth: number;
  /** The most fetched object bytes the isolate held in JS at once while the request ran (all requests). */
  heldPeak: number;
  /** The most of linear memory plus held bytes seen at once while it ran. */
  peak: number;
}

/** Called with the engine's instance once: its exported memory is the one the engine allocates from. */
export function watchEngineMemory(instance: WebAssembly.Instance): void {
  engineMemory = Object.values(instance.exports).find(
    (value): value is WebAssembly.Memory => value instanceof WebAssembly.Memory,
  );
}

/** The zstd compressor's linear memory (zstd.ts), which flushes grow as DuckDB's queries grow the engine's. */
let compressorMemory: WebAssembly.Memory | undefined;

/** Called with the zstd compressor's memory once it starts. */
export function watchCompressorMemory(memory: WebAssembly.Memory): void {
  compressorMemory = memory;
}

/** The linear memory of the isolate's wasm (DuckDB's engine and the zstd compressor) in bytes now. */
export function engineBytes(): number {
  return (engineMemory?.buffer.byteLength ?? 0) + (compressorMemory?.buffer.byteLength ?? 0);
}

function sample(): void {
  const total = engineBytes() + heldBytes;
  for (const watch of watches) {
    watch.heldPeak = Math.max(watch.heldPeak, heldBytes);
    watch.peak = Math.max(watch.peak, total);
  }
}

/**
 * Counts `bytes` fetched into JS as held until the returned function is called (once).
 *
 * @example const release = holdBytes(bytes.byteLength); db.registerBuffer(name, bytes); release();
 */
export function holdBytes(bytes: number): () => void {
  heldBytes += bytes;
  sample();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    sample();
    heldBytes -= bytes;
  };
}

/** Notes the engine's memory now (after it may have grown), for the requests being watched. */
export const sampleIsolateMemory = sample;

/**
 * Watches the isolate's memory from now until `done()`, which says what the request cost.
 *
 * @example const watch = watchIsolateMemory(); await queryLogs(…); const report = watch.done();
 */
export function watchIsolateMemory(): { done(): IsolateMemoryReport } {
  const wasmAtStart = engineBytes();
  const watch: Watch = { wasmAtStart, heldPeak: heldBytes, peak: wasmAtStart + heldBytes };
  watches.add(watch);
  return {
    done() {
      sample();
      watches.delete(watch);
      const wasm = engineBytes();
      return {
        wasm,
        wasmGrowth: wasm - watch.wasmAtStart,
        heldPeak: watch.heldPeak,
        peak: watch.peak,
      };
    },
  };
}
