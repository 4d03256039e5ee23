import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** Cloudflare's limit on a Worker's gzipped size (paid plan). */
export const WORKER_GZIP_LIMIT = 10 * 1024 * 1024;

/**
 * The size of a Worker bundle that `wrangler deploy --dry-run --outdir` wrote, raw and gzipped, counting the
 * modules it uploads (the script and its wasm), not source maps or wrangler's README.
 *
 * @example const { gzipBytes } = await bundleSize(".wrangler/deploy/bundle");
 */
export async function bundleSize(dir: string): Promise<{ bytes: number; gzipBytes: number; files: number }> {
  let bytes = 0;
  let gzipBytes = 0;
  let files = 0;
  for (const name of await readdir(dir)) {
    if (name.endsWith(".map") || name === "README.md") continue;
    const data = await readFile(join(dir, name));
    bytes += data.byteLength;
    gzipBytes += gzipSync(data).byteLength;
    files++;
  }
  if (files === 0) throw new Error(`${dir} holds no bundle: wrangler deploy --dry-run wrote nothing`);
  return { bytes, gzipBytes, files };
}
