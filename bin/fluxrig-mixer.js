#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx); the mixer's Node-side launcher lives in mixer-worker/cli.
import { register } from "tsx/esm/api";

register();
await import("../mixer-worker/cli/main.ts");
