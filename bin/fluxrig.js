#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx); the rack agent's CLI lives in rack-agent/src/cli.
import { register } from "tsx/esm/api";

register();
await import("../rack-agent/src/cli/main.ts");
