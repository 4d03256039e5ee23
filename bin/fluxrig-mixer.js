#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx); the mixer's Node-side launcher lives in mixer-worker/cli.
import { existsSync } from "node:fs";

const sources = new URL("../mixer-worker/cli/main.ts", import.meta.url);
if (!existsSync(sources)) {
  // The packed tarball holds the rack agent only.
  process.stderr.write("fluxrig-mixer runs from a checkout of the repository (npm ci && npm run dev)\n");
  process.exit(1);
}
const { register } = await import("tsx/esm/api");
register();
await import(sources.href);
