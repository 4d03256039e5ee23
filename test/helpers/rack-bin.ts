import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { buildRackBundle } from "../../scripts/build-rack.ts";
import { RACK_BIN_ENV } from "./run-bin.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Builds the `fluxrig` binary once for the run, from the sources as they are now, as `npm run build:rack`
 * builds it for racks; runBin and startBin run it. Through tsx from the sources instead, each start loads ~300
 * modules through tsx's loader: about 2.4 s of CPU against 0.5 s for the bundle, and the suites start `fluxrig`
 * a few hundred times. The file sits under dist/ so that cbor-x finds its native decoder in the checkout's
 * node_modules, as `bin/fluxrig.js` does. Vitest's globalSetup: returns the teardown (vitest runs every project's
 * teardown at the end of the run).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Several projects of one run (e2e and e2e-alone) share the build the first of them made.
  if (process.env[RACK_BIN_ENV]) return async () => {};
  await mkdir(join(PROJECT_ROOT, "dist"), { recursive: true });
  const dir = await mkdtemp(join(PROJECT_ROOT, "dist", "test-bin-"));
  const build = async () => {
    await buildRackBundle(join(dir, "fluxrig.mjs"));
  };
  await build();
  process.env[RACK_BIN_ENV] = join(dir, "fluxrig.mjs");
  // Watch mode: a rerun after a change runs the changed sources.
  project.onTestsRerun(build);
  return () => rm(dir, { recursive: true, force: true });
}
