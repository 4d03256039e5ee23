import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Where the local mixer keeps its generated API token; the `fluxrig` CLI on the same machine reads it there. */
export const API_TOKEN_FILE = "api-token";

/**
 * The local mixer's API token: FLUXRIG_API_TOKEN when set, else the one generated on first start and kept
 * under the store dir (mode 0600), so it stays the same across restarts.
 *
 * @example const { token, source } = await localApiToken("./data", process.env);
 */
export async function localApiToken(
  storeDir: string,
  env: Record<string, string | undefined>,
): Promise<{ token: string; source: string }> {
  if (env.FLUXRIG_API_TOKEN) return { token: env.FLUXRIG_API_TOKEN, source: "env FLUXRIG_API_TOKEN" };
  const path = join(storeDir, API_TOKEN_FILE);
  const existing = await readFile(path, "utf8").catch(() => "");
  if (existing.trim()) return { token: existing.trim(), source: path };
  const token = randomBytes(32).toString("base64url");
  await writeFile(path, `${token}\n`, { mode: 0o600, flag: "w" });
  return { token, source: `${path} (generated)` };
}
