/** Wrangler's `CompiledWasm` rule turns a `.wasm` import into a compiled module (workerd refuses to compile bytes). */
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}

/** The browser-blocking build is imported by file, so no bundler condition can swap in the Node build. */
declare module "@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs" {
  export * from "@duckdb/duckdb-wasm/blocking";
}
