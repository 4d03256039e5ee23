import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, expect, it } from "vitest";

const run = promisify(execFile);
let dir: string;

// A bundle built as build-rack.ts builds the rack's (minified, linked map without sources), run by plain node.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-stacks-"));
  await writeFile(
    join(dir, "entry.ts"),
    `import { mapBundleStackTraces } from ${JSON.stringify(new URL("./bundle-stack-traces.ts", import.meta.url).pathname)};
mapBundleStackTraces(import.meta.url);
export function failHere(): never {
  throw new Error("boom");
}
`,
  );
  await build({
    entryPoints: [join(dir, "entry.ts")],
    outfile: join(dir, "bundle.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    minify: true,
    sourcemap: "linked",
    sourcesContent: false,
    logLevel: "warning",
  });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const stackOf = async (flags: string[] = []) => {
  const script = `import(${JSON.stringify(pathToFileURL(join(dir, "bundle.mjs")).href)}).then((m) => {
  try { m.failHere(); } catch (error) { console.log(error.stack); }
});`;
  return (await run(process.execPath, [...flags, "--input-type=module", "-e", script])).stdout;
};

it("names the TypeScript file and line of a frame in the bundle, without node --enable-source-maps", async () => {
  const stack = await stackOf();
  expect(stack).toMatch(/^Error: boom\n/);
  expect(stack).toContain(`${pathToFileURL(join(dir, "entry.ts")).href}:4:`);
});

it("leaves the mapping to node under --enable-source-maps", async () => {
  expect(await stackOf(["--enable-source-maps"])).toContain(`${join(dir, "entry.ts")}:4:`);
});

it("keeps the bundle's own file:line when no map is beside it", async () => {
  await rm(join(dir, "bundle.mjs.map"));
  const stack = await stackOf();
  expect(stack).toMatch(/^Error: boom\n/);
  expect(stack).toContain("bundle.mjs:");
});
