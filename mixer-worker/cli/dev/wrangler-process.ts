import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LogLevel } from "../../../shared/config/index.ts";

const require = createRequire(import.meta.url);

/** The checkout's root, where wrangler.toml is: wrangler runs there. */
export const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Wrangler's CLI entry. Its bin wrapper refuses Node < 22, but the CLI itself runs on Node 20 (measured:
 * `wrangler dev` and `d1 migrations apply` work), and Node 20 is our floor, so we call the CLI directly.
 */
function wranglerCli(): string {
  return join(dirname(require.resolve("wrangler/package.json")), "wrangler-dist", "cli.js");
}

/**
 * Runs a wrangler command to completion on this Node, resolving with its stdout (what `--json` commands
 * print), failing with all its output when it fails.
 */
export function runWrangler(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--no-warnings", wranglerCli(), ...args], {
      cwd,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolve(stdout);
      else
        reject(new Error(`wrangler ${args.slice(0, 3).join(" ")} failed (exit ${code}):\n${output.trim()}`));
    });
  });
}

export interface WranglerDevOptions {
  cwd: string;
  port: number;
  /**
   * The devtools inspector's port. wrangler's default takes the first free one from 9229, and two `wrangler dev`
   * starting at once on a host both pick it; one then dies with "Address already in use".
   */
  inspectorPort: number;
  persistTo: string;
  envFile: string;
  vars: Record<string, string>;
  /** `logging.level`: wrangler prints its own lines and the Worker's console at or above it. */
  logLevel: LogLevel;
  /** Where wrangler's own output goes (the Worker's console.log included). */
  onOutput: (line: string) => void;
}

/** Noise that wrangler prints on a machine without internet access; it changes nothing locally. */
const NOISE = [
  /Unable to fetch the `Request\.cf` object/,
  /getaddrinfo ENOTFOUND/,
  /^\s+at /,
  /requires at least Node\.js/,
];

/** Wrangler's level for each `logging.level`: its `debug` is wrangler's own internals, not the Worker's. */
const WRANGLER_LOG_LEVEL: Record<LogLevel, string> = {
  trace: "log",
  debug: "log",
  info: "log",
  warn: "warn",
  error: "error",
};

/** Starts `wrangler dev` for the mixer Worker on 127.0.0.1. */
export function startWranglerDev(options: WranglerDevOptions): ChildProcess {
  const args = [
    "--no-warnings",
    wranglerCli(),
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(options.port),
    "--inspector-port",
    String(options.inspectorPort),
    "--persist-to",
    options.persistTo,
    "--env-file",
    options.envFile,
    "--show-interactive-dev-session=false",
    "--log-level",
    WRANGLER_LOG_LEVEL[options.logLevel],
    "--test-scheduled",
    ...Object.entries(options.vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so stopping it also stops the workerd it starts.
    detached: true,
  });
  const relay = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) {
      if (line.trim() && !NOISE.some((pattern) => pattern.test(line))) options.onOutput(line);
    }
  };
  child.stdout?.on("data", relay);
  child.stderr?.on("data", relay);
  return child;
}

/** Signals wrangler and everything it started (workerd); a no-op once the group is gone. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}
