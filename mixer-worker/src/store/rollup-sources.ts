/** Metric rollups are per minute: buckets of a whole number of minutes can be read from them. */
export const ROLLUP_STEP_MS = 60_000;

/**
 * What a rollup was made from: a digest of its partition folder's live object keys. Readers use a rollup
 * only while their own listing of the folder gives the same digest, so late records (a new flush object) or
 * a compaction (new parts) make them read the rows until the compactor has rolled the folder up again.
 *
 * @example const sources = await liveDigest(live.map((object) => object.key));
 */
export async function liveDigest(keys: readonly string[]): Promise<string> {
  const text = [...keys].sort().join("\n");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
