import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Where a run's global setup (rack-bin.ts) left the `fluxrig` binary it built. */
export const RACK_BIN_ENV = "TEST_FLUXRIG_RACK_BIN";

/** `fluxrig` as a checkout runs it: the sources through tsx (`npx fluxrig`). */
export const CHECKOUT_FLUXRIG = `${ROOT}bin/fluxrig.js`;

/**
 * The script a binary runs from: `fluxrig` as the run's global setup built it from the sources (rack-bin.ts),
 * `fluxrig-mixer` (and `fluxrig` outside such a run) from `bin/`, through tsx.
 */
function binScript(name: "fluxrig" | "fluxrig-mixer"): string {
  const built = name === "fluxrig" ? process.env[RACK_BIN_ENV] : undefined;
  return built ?? `${ROOT}bin/${name}.js`;
}

/** The environment a binary runs with: this one without any FLUXRIG_* variable, plus `env`. */
function binEnv(env: Record<string, string> = {}): Record<string, string | undefined> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("FLUXRIG_")));
  return { ...base, NO_COLOR: "1", ...env };
}

export interface BinResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the project's real binaries (`fluxrig` as built for racks, `bin/fluxrig-mixer.js`, or `script`)
 * as a user would, with a clean FLUXRIG_* environment plus `env`, and a timeout so a hang fails the
 * test instead of the suite (45 s by default: on a loaded 2-core machine a start via tsx took over 20 s).
 */
export function runBin(
  name: "fluxrig" | "fluxrig-mixer",
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; script?: string } = {},
): Promise<BinResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [options.script ?? binScript(name), ...args],
      {
        cwd: options.cwd ?? ROOT,
        env: binEnv(options.env),
        timeout: options.timeoutMs ?? 45_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A binary left running, e.g. `fluxrig run`. */
export interface RunningBin {
  readonly pid: number;
  /** stdout and stderr so far, interleaved as they arrived. */
  readonly output: string;
  /**
   * Resolves with the first line matching `pattern` in the output after position `since` (default 0); fails
   * after `timeoutMs` (or when the process exits first) with the output so far.
   */
  waitFor(pattern: RegExp, options?: { since?: number; timeoutMs?: number }): Promise<string>;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` (SIGINT, as Ctrl-C does) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts one of the project's binaries and leaves it running, with the environment {@link runBin} uses.
 * Nothing outlives the test process: the child is killed when it exits.
 *
 * @example
 * const rack = startBin("fluxrig", ["run"], { env: { FLUXRIG_SNAKE_URL: url } });
 * await rack.waitFor(/waiting for adoption/);
 * expect(await rack.stop()).toBe(0);
 */
export function startBin(
  name: "fluxrig" | "fluxrig-mixer",
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string>;
    script?: string;
    /** Node's own flags, before the script (as a service unit's ExecStart gives them; NODE_OPTIONS refuses some). */
    nodeArgs?: string[];
  } = {},
): RunningBin {
  const script = options.script ?? binScript(name);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
    cwd: options.cwd ?? ROOT,
    env: binEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let output = "";
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      process.off("exit", killOnExit);
      resolve(code);
      for (const listener of listeners) listener();
    }),
  );
  return {
    pid: child.pid as number,
    get output() {
      return output;
    },
    exited,
    waitFor(pattern, { since = 0, timeoutMs = 30_000 } = {}) {
      return new Promise((resolve, reject) => {
        const done = () => {
          listeners.delete(check);
          clearTimeout(timer);
        };
        const check = () => {
          const line = output
            .slice(since)
            .split("\n")
            .find((l) => pattern.test(l));
          if (line !== undefined) {
            done();
            resolve(line);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(
              new Error(
                `${name} exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${output}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} from ${name}:\n${output}`),
          );
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    async stop(signal = "SIGINT") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
