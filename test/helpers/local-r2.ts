import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parse } from "smol-toml";
import { fluxRangeFields } from "../../mixer-worker/src/store/object-flux-range.ts";
import { timeRangeMetadata } from "../../mixer-worker/src/store/object-time-range.ts";

/** A Parquet file on disk and the object key it is stored under, with the metadata ingest writes. */
export interface StoredFile {
  key: string;
  path: string;
  rows: number;
  tsMin: number;
  tsMax: number;
  /** The lowest and highest flux id (text), null when no row has one; absent: written without the range. */
  flux?: { min: string | null; max: string | null };
}

/** The R2 bucket the mixer's TELEMETRY binding names in wrangler.toml (local R2 is keyed by it). */
export async function telemetryBucketName(): Promise<string> {
  const toml = parse(await readFile(new URL("../../wrangler.toml", import.meta.url), "utf8")) as {
    r2_buckets: { binding: string; bucket_name: string }[];
  };
  const bucket = toml.r2_buckets.find((b) => b.binding === "TELEMETRY");
  if (!bucket) throw new Error("wrangler.toml has no R2 bucket bound as TELEMETRY");
  return bucket.bucket_name;
}

/**
 * Puts the files into the R2 bucket that `wrangler dev --persist-to <persistTo>` serves, through the
 * Miniflare that wrangler itself runs, with the metadata ingest writes (record count, time and flux id range).
 * Call it while the mixer is stopped: two processes must not share the store.
 */
export async function putIntoLocalR2(
  persistTo: string,
  bucketName: string,
  files: StoredFile[],
): Promise<void> {
  const fromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler/package.json"));
  const { Miniflare, convertV4MiniflareOptions } = fromWrangler("miniflare") as typeof import("miniflare");
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script: "export default { fetch() { return new Response(null, { status: 404 }); } };",
      resourcePersistencePath: join(persistTo, "v3"),
      r2Buckets: { BUCKET: bucketName },
    }),
  );
  try {
    const bucket = await mf.getR2Bucket("BUCKET");
    for (const file of files) {
      await bucket.put(file.key, await readFile(file.path), {
        customMetadata: {
          records: String(file.rows),
          ...timeRangeMetadata([{ ts: file.tsMin }, { ts: file.tsMax }]),
          ...(file.flux ? fluxRangeFields(file.flux.min ?? undefined, file.flux.max ?? undefined) : {}),
        },
      });
    }
  } finally {
    await mf.dispose();
  }
}
