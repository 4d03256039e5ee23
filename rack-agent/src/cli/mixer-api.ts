import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { LOCAL_API_TOKEN_FILE } from "../../../shared/cli/local-mixer-files.ts";

/** Where the CLI finds the mixer's API unless told otherwise (the local mixer's default `api.port`). */
export const DEFAULT_API_URL = "http://localhost:8090";

/** The options {@link addMixerApiOptions} adds. */
export interface MixerApiOptions {
  apiUrl?: string;
  token?: string;
}

/**
 * Adds `--api-url` and `--token` to a command that talks to the mixer's API.
 *
 * @example addMixerApiOptions(program.command("racks"));
 */
export function addMixerApiOptions(command: Command): Command {
  return command
    .option("--api-url <url>", `the mixer's API (default: FLUXRIG_API_URL, else ${DEFAULT_API_URL})`)
    .option(
      "--token <token>",
      "API token (default: FLUXRIG_API_TOKEN, else <store.dir>/api-token of a local mixer)",
    );
}

/** A JSON client for the mixer's API; every failure is one readable line. */
export interface MixerApi {
  readonly url: string;
  get<T>(path: string): Promise<T>;
  /** POSTs `body` as JSON, or as it is with `contentType`; `timeoutMs` (default 15 s) bounds the wait. */
  post<T>(path: string, body?: unknown, options?: { contentType?: string; timeoutMs?: number }): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

/**
 * Resolves where and how to call the mixer: `--api-url` > FLUXRIG_API_URL > the default, and `--token` >
 * FLUXRIG_API_TOKEN > `<store.dir>/api-token` (written by `fluxrig-mixer dev` on this machine).
 *
 * @example const api = await mixerApi(options, io.env, config.store.dir);
 */
export async function mixerApi(
  options: MixerApiOptions,
  env: Record<string, string | undefined>,
  storeDir: string,
): Promise<MixerApi> {
  const url = (options.apiUrl ?? env.FLUXRIG_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, "");
  const tokenFile = join(storeDir, LOCAL_API_TOKEN_FILE);
  const token =
    options.token ?? env.FLUXRIG_API_TOKEN ?? (await readFile(tokenFile, "utf8").catch(() => "")).trim();
  if (!token) {
    throw new Error(
      `no API token: pass --token, set FLUXRIG_API_TOKEN, or run this where the local mixer keeps ${tokenFile}`,
    );
  }
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
    options: { contentType?: string; timeoutMs?: number } = {},
  ): Promise<T> => {
    let res: Response;
    const contentType = options.contentType ?? "application/json";
    try {
      res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": contentType }),
        },
        ...(body === undefined
          ? {}
          : { body: options.contentType === undefined ? JSON.stringify(body) : String(body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      });
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new Error(`cannot reach the mixer at ${url} (--api-url): ${cause}`);
    }
    const text = await res.text();
    if (!res.ok) {
      const problem = (() => {
        try {
          return JSON.parse(text) as { title?: string; detail?: string };
        } catch {
          return { detail: text.slice(0, 200) };
        }
      })();
      throw new Error(
        `${method} ${path}: ${res.status} ${problem.title ?? res.statusText}${problem.detail ? `: ${problem.detail}` : ""}`,
      );
    }
    return JSON.parse(text) as T;
  };
  return {
    url,
    get: (path) => call("GET", path),
    post: (path, body, options) => call("POST", path, body, options),
    delete: (path) => call("DELETE", path),
  };
}
