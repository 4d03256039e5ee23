/** What wrangler prints, read for the facts a deploy needs (its JSON where it has one). */

function json(text: string, command: string): unknown {
  // Wrangler may print a banner or warnings around the JSON; the JSON is the part from the first [ or {.
  const start = text.search(/[[{]/);
  try {
    return JSON.parse(start < 0 ? text : text.slice(start));
  } catch (error) {
    throw new Error(`${command} did not print JSON (${(error as Error).message}): ${text.slice(0, 200)}`);
  }
}

/**
 * The id of the D1 database named `name` in `wrangler d1 list --json`, or undefined.
 *
 * @example d1DatabaseId('[{"uuid":"a1…","name":"fluxrig-registry"}]', "fluxrig-registry") // "a1…"
 */
export function d1DatabaseId(text: string, name: string): string | undefined {
  const list = json(text, "wrangler d1 list --json");
  if (!Array.isArray(list)) throw new Error("wrangler d1 list --json did not print a list");
  const found = list.find((db: { name?: unknown }) => db?.name === name) as { uuid?: unknown } | undefined;
  return typeof found?.uuid === "string" ? found.uuid : undefined;
}

/**
 * The bucket names in `wrangler r2 bucket list` (which prints `name: …` lines, no JSON).
 *
 * @example r2BucketNames("name:           fluxrig-telemetry\ncreation_date:  …") // ["fluxrig-telemetry"]
 */
export function r2BucketNames(text: string): string[] {
  return [...text.matchAll(/^name:\s+(\S+)\s*$/gm)].map((m) => m[1] as string);
}

/**
 * The secret names in `wrangler secret list --format json` (never values: Cloudflare does not return them).
 *
 * @example workerSecretNames('[{"name":"MIXER_CLUSTER_KEY","type":"secret_text"}]') // ["MIXER_CLUSTER_KEY"]
 */
export function workerSecretNames(text: string): string[] {
  const list = json(text, "wrangler secret list");
  if (!Array.isArray(list)) throw new Error("wrangler secret list did not print a list");
  return list.map((entry: { name?: unknown }) => String(entry?.name));
}

/** Whether a failed `wrangler secret list` means only that the Worker does not exist yet (first deploy). */
export function isMissingWorker(error: Error): boolean {
  return /\b10007\b|workers?\.api\.error\.script_not_found|not found/i.test(error.message);
}
