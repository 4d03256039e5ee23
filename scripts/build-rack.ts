import { chmod, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Where `npm run build:rack` writes the agent: one file a rack runs with plain `node`. */
export const RACK_BUNDLE = `${ROOT}dist/fluxrig.mjs`;

/**
 * Bundles the `fluxrig` CLI and agent (rack-agent/src/cli/main.ts) with every package it imports into one ESM
 * file for Node 20+, so a rack needs neither node_modules, tsx nor TypeScript. Returns the metafile (which
 * inputs went in), written beside the bundle as `fluxrig.meta.json`, and the bundle's size; its source map is
 * `fluxrig.mjs.map`.
 *
 * @example const { metafile } = await buildRackBundle(); // dist/fluxrig.mjs
 */
export async function buildRackBundle(
  outfile = RACK_BUNDLE,
): Promise<{ outfile: string; metafile: Metafile; bytes: number }> {
  const result = await build({
    entryPoints: [`${ROOT}rack-agent/src/cli/main.ts`],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Without keepNames: the __name() call it adds for every function and class is code and memory at every
    // start (bench:rack, README). Stack traces read through the source map instead.
    minify: true,
    // Beside the bundle, read when a stack trace is formatted (file:line of the TypeScript; bundle-stack-traces.ts).
    sourcemap: "linked",
    sourcesContent: false,
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
    // The CommonJS packages inside (commander, pino…) call require() for Node's built-ins; ESM has none.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __fluxrigRequire } from 'node:module';\nconst require = __fluxrigRequire(import.meta.url);",
    },
    // ESM builds first: OpenTelemetry's transformer tree-shakes from its ESM build (about 220 KB less).
    mainFields: ["module", "main"],
    // cbor-x loads this native decoder if it can and falls back to JavaScript: a bundle cannot carry an addon.
    external: ["cbor-extract"],
  });
  await chmod(outfile, 0o755);
  await writeFile(outfile.replace(/\.mjs$/, ".meta.json"), JSON.stringify(result.metafile));
  // The outputs hold the source map too.
  const bytes =
    Object.entries(result.metafile.outputs).find(([path]) => path.endsWith(".mjs"))?.[1].bytes ?? 0;
  return { outfile, metafile: result.metafile, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { outfile, bytes } = await buildRackBundle();
  process.stderr.write(`${outfile}: ${(bytes / 2 ** 20).toFixed(2)} MiB\n`);
}
