import type { DuckDBBindings } from "@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs";
import { watchEngineMemory } from "./isolate-memory.ts";

/** A row as DuckDB returns it: BIGINT columns come back as `bigint`, TIMESTAMP as epoch milliseconds. */
export type DuckDbRow = Record<string, unknown>;

/** The one DuckDB connection of this isolate; every call runs synchronously inside the wasm engine. */
export interface DuckDb {
  /** Runs SQL and returns its rows as plain objects. */
  query<T extends DuckDbRow = DuckDbRow>(sql: string): T[];
  /** Makes bytes readable by SQL under `name` (they are copied into the wasm heap). */
  registerBuffer(name: string, bytes: Uint8Array): void;
  /** Forgets a registered or written file and frees its bytes. */
  dropFile(name: string): void;
  /** Returns the bytes of a file a `COPY … TO name` wrote. */
  copyFileToBuffer(name: string): Uint8Array;
}

/**
 * The engine is kept on globalThis rather than in a module variable: both live as long as the isolate, but the
 * vitest pool gives every test file its own module graph in one isolate, and loading costs seconds each time.
 */
const ENGINE = Symbol.for("fluxrig.mixer.duckdb");
const isolate = globalThis as { [ENGINE]?: EngineStart };

/** The isolate's one start of the engine: under way, done, or failed. */
interface EngineStart {
  started: Promise<DuckDb>;
  ready?: DuckDb;
  failed?: { error: unknown };
}

/**
 * The isolate's DuckDB (duckdb-wasm 1.28, DuckDB 0.9.1: the last line with Parquet built in), started on
 * first use. Importing the 18 MB engine costs seconds, so it is loaded lazily rather than with the Worker.
 *
 * @example
 * ```ts
 * const db = await getDuckDb();
 * db.registerBuffer("a.parquet", bytes);
 * const [{ n }] = db.query<{ n: bigint }>("SELECT count(*) AS n FROM 'a.parquet'");
 * db.dropFile("a.parquet");
 * ```
 */
export async function getDuckDb(): Promise<DuckDb> {
  const engine = isolate[ENGINE];
  if (engine?.ready) return engine.ready;
  if (!engine) {
    const starting: EngineStart = {
      started: start().then(
        (db) => {
          starting.ready = db;
          return db;
        },
        (error: unknown) => {
          // A failed start would otherwise be cached, and workerd cancels every request that awaits it as hung.
          if (isolate[ENGINE] === starting) isolate[ENGINE] = undefined;
          starting.failed = { error };
          throw error;
        },
      ),
    };
    isolate[ENGINE] = starting;
    return starting.started;
  }
  // Another context is starting it (a Durable Object shares the isolate with requests): a promise settled
  // there would leave this one unable to do any I/O after it, so wait on this context's own timers.
  while (!engine.ready && !engine.failed) await new Promise((resolve) => setTimeout(resolve, 25));
  if (engine.ready) return engine.ready;
  throw engine.failed?.error;
}

async function start(): Promise<DuckDb> {
  const host = globalThis as Record<string, unknown>;
  // The emscripten glue reads the page URL and schedules with setImmediate; workerd has neither.
  host.location ??= new URL("https://mixer.fluxrig.invalid/");
  host.setImmediate ??= (callback: () => void) => setTimeout(callback, 0);
  const engine = await withoutNodeVersion(async () => {
    const [duckdb, wasm] = await Promise.all([
      import("@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs"),
      import("@duckdb/duckdb-wasm/dist/duckdb-eh.wasm"),
    ]);
    const noBundle = { mainModule: "", mainWorker: "" };
    const bindings = await duckdb.createDuckDB(
      { mvp: noBundle, eh: noBundle },
      new duckdb.VoidLogger(),
      duckdb.BROWSER_RUNTIME,
    );
    // workerd refuses to compile wasm from bytes; hand emscripten the module the CompiledWasm rule compiled.
    let failed: (error: unknown) => void = () => {};
    const instantiation = new Promise<never>((_, reject) => {
      failed = reject;
    });
    Object.assign(bindings, {
      instantiateWasm(
        imports: WebAssembly.Imports,
        done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
      ) {
        // The glue's file callbacks find the runtime here; the stock hook we replace would have set it.
        host.DUCKDB_RUNTIME = duckdb.BROWSER_RUNTIME;
        WebAssembly.instantiate(wasm.default, imports).then((instance) => {
          watchEngineMemory(instance);
          done(instance, wasm.default);
        }, failed);
        return {};
      },
    });
    // Emscripten has no failure callback: without the race a failed instantiation would hang for ever.
    await Promise.race([bindings.instantiate(() => {}), instantiation]);
    return bindings;
  });
  engine.open({ path: ":memory:" });
  return connect(engine);
}

/**
 * Runs `load` with `process.versions.node` hidden. With `nodejs_compat` (always on in the vitest pool) the
 * bundled sha256 and the emscripten glue would take their Node paths, which need `require` and eval.
 */
async function withoutNodeVersion<T>(load: () => Promise<T>): Promise<T> {
  const proc = (globalThis as { process?: { versions?: Record<string, string> } }).process;
  const versions = proc?.versions;
  if (!proc || !versions?.node) return load();
  const { node: _hidden, ...others } = versions;
  proc.versions = others;
  try {
    return await load();
  } finally {
    proc.versions = versions;
  }
}

function connect(engine: DuckDBBindings): DuckDb {
  const connection = engine.connect();
  return {
    query: <T extends DuckDbRow>(sql: string) =>
      guarded(() =>
        connection
          .query(sql)
          .toArray()
          .map((row: { toJSON(): unknown }) => row.toJSON() as T),
      ),
    registerBuffer: (name, bytes) => guarded(() => engine.registerFileBuffer(name, bytes)),
    dropFile: (name) => guarded(() => engine.dropFile(name)),
    copyFileToBuffer: (name) => guarded(() => engine.copyFileToBuffer(name)),
  };
}

/** A wasm trap (e.g. "memory access out of bounds") leaves the engine's heap unusable: start anew next time. */
function guarded<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) isolate[ENGINE] = undefined;
    throw error;
  }
}
