import { watchCompressorMemory } from "./isolate-memory.ts";

/**
 * zstd compression in the isolate: the reference zstd library compiled to wasm (@bokuweb/zstd-wasm 0.0.27, MIT,
 * pinned: its exports are minified names, mapped below). workerd has no zstd of its own and refuses to compile
 * wasm from bytes, so the module comes precompiled through wrangler's CompiledWasm rule, and is instantiated
 * here with the five imports its emscripten glue would have given it.
 */
interface ZstdExports {
  memory: WebAssembly.Memory;
  isError(code: number): number;
  compressBound(size: number): number;
  createCCtx(): number;
  /** `ZSTD_compress_usingDict(cctx, dst, capacity, src, size, dict, dictSize, level)`: with no dict, a CCtx compress. */
  compressUsingDict(
    cctx: number,
    dst: number,
    capacity: number,
    src: number,
    size: number,
    dict: number,
    dictSize: number,
    level: number,
  ): number;
  malloc(size: number): number;
  free(pointer: number): void;
}

/** The instance, one compression context, and one input and one output buffer that grow as pages need. */
interface Compressor {
  zstd: ZstdExports;
  cctx: number;
  input: { at: number; size: number };
  output: { at: number; size: number };
}

let compressor: Compressor | undefined;

/**
 * Loads the compressor (once per isolate) before {@link zstdCompress} is used. Imported on first use, so that
 * code importing the store in Node (tests, benchmarks) never meets the `.wasm` import.
 */
export async function zstdReady(): Promise<void> {
  if (compressor) return;
  // By path: the package's `exports` name only its JS entry points, and its glue is not what workerd can run.
  const wasm = await import("../../../node_modules/@bokuweb/zstd-wasm/dist/esm/zstd.wasm");
  compressor ??= start(wasm.default);
}

function start(module: WebAssembly.Module): Compressor {
  let memory: WebAssembly.Memory | undefined;
  const instance = new WebAssembly.Instance(module, {
    a: {
      a: (code: number) => {
        throw new Error(`zstd exited with code ${code}`);
      },
      b: () => {},
      c: () => {
        throw new Error("zstd aborted");
      },
      d: () => 0,
      // emscripten_resize_heap: grow to the requested size in whole 64 KiB pages; 0 tells the allocator no.
      e: (requested: number) => {
        const have = memory?.buffer.byteLength ?? 0;
        try {
          memory?.grow(Math.ceil((requested - have) / 65_536));
          return 1;
        } catch {
          return 0;
        }
      },
    },
  });
  const x = instance.exports as Record<string, unknown>;
  memory = x.f as WebAssembly.Memory;
  watchCompressorMemory(memory);
  (x.g as () => void)(); // the module's constructors
  const zstd: ZstdExports = {
    memory,
    isError: x.h as ZstdExports["isError"],
    compressBound: x.i as ZstdExports["compressBound"],
    createCCtx: x.j as ZstdExports["createCCtx"],
    compressUsingDict: x.l as ZstdExports["compressUsingDict"],
    malloc: x.s as ZstdExports["malloc"],
    free: x.t as ZstdExports["free"],
  };
  return { zstd, cctx: zstd.createCCtx(), input: { at: 0, size: 0 }, output: { at: 0, size: 0 } };
}

function reserve(zstd: ZstdExports, buffer: { at: number; size: number }, size: number): number {
  if (buffer.size < size) {
    if (buffer.at) zstd.free(buffer.at);
    buffer.size = Math.max(size, buffer.size * 2, 1 << 20);
    buffer.at = zstd.malloc(buffer.size);
    if (!buffer.at) throw new RangeError(`zstd could not allocate ${buffer.size} bytes`);
  }
  return buffer.at;
}

/**
 * One zstd frame of `bytes` at `level` (1: the fastest; stored objects are rewritten at compaction).
 *
 * @example await zstdReady(); const frame = zstdCompress(page, 1);
 */
export function zstdCompress(bytes: Uint8Array, level: number): Uint8Array {
  if (!compressor) throw new Error("zstdCompress before zstdReady()");
  const { zstd, cctx } = compressor;
  const bound = zstd.compressBound(bytes.length);
  const src = reserve(zstd, compressor.input, bytes.length);
  const dst = reserve(zstd, compressor.output, bound);
  new Uint8Array(zstd.memory.buffer, src, bytes.length).set(bytes);
  const size = zstd.compressUsingDict(cctx, dst, bound, src, bytes.length, 0, 0, level);
  if (zstd.isError(size)) throw new Error(`zstd failed to compress ${bytes.length} bytes (code ${size})`);
  return new Uint8Array(zstd.memory.buffer, dst, size).slice();
}
