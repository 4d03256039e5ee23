#!/usr/bin/env node
// In a checkout: the TypeScript sources through tsx (a devDependency). Installed from `npm pack`'s tarball,
// which holds no sources: the self-contained bundle that `npm run build:rack` made.
import { existsSync } from "node:fs";

const sources = new URL("../rack-agent/src/cli/main.ts", import.meta.url);
if (existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(sources.href);
} else {
  // The bundle maps its own stack traces to the TypeScript through its source map, read only when a stack is
  // formatted (rack-agent/src/cli/bundle-stack-traces.ts): process.setSourceMapsEnabled would parse it at load.
  await import("../dist/fluxrig.mjs");
}
