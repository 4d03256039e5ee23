import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface BinResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the project's real binaries (`bin/fluxrig.js`, `bin/fluxrig-mixer.js`) as a user would,
 * with a clean FLUXRIG_* environment plus `env`, and a timeout so a hang fails the test instead of the suite.
 */
export function runBin(
  name: "fluxrig" | "fluxrig-mixer",
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<BinResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("FLUXRIG_")));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`${ROOT}bin/${name}.js`, ...args],
      {
        cwd: options.cwd ?? ROOT,
        env: { ...base, NO_COLOR: "1", ...options.env },
        timeout: options.timeoutMs ?? 20_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
