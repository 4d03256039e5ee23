import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { nativeQuery, sqlString } from "./native-duckdb.ts";
import type { TestMixer } from "./test-mixer.ts";

export interface StoredFile {
  key: string;
  size: number;
}

/** Lists every stored object under a prefix through the mixer's files API (following its cursor). */
export async function listStored(mixer: TestMixer, prefix: string): Promise<StoredFile[]> {
  const files: StoredFile[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ prefix, ...(cursor ? { cursor } : {}) });
    const res = await mixer.api(`/api/v1/telemetry/files?${query}`);
    if (!res.ok) throw new Error(`listing ${prefix}: HTTP ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { files: StoredFile[]; next: string | null };
    files.push(...page.files);
    cursor = page.next;
  } while (cursor);
  return files;
}

/** Downloads stored objects into `dir`, keeping their keys as paths; returns the local paths. */
export async function downloadStored(mixer: TestMixer, keys: string[], dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const key of keys) {
    const res = await mixer.api(`/api/v1/telemetry/files/${key}`);
    if (!res.ok) throw new Error(`downloading ${key}: HTTP ${res.status}`);
    const path = join(dir, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, new Uint8Array(await res.arrayBuffer()));
    paths.push(path);
  }
  return paths;
}

/**
 * Downloads every stored object under `prefix` into a fresh folder under `dir` and returns them as a DuckDB
 * list literal for `read_parquet(…)`, `[]` when there is none.
 *
 * @example const files = await storedParquetList(mixer, "messages/generic/", dir);
 */
export async function storedParquetList(mixer: TestMixer, prefix: string, dir: string): Promise<string> {
  const keys = (await listStored(mixer, prefix)).map((f) => f.key);
  if (keys.length === 0) return "[]";
  const paths = await downloadStored(mixer, keys, join(dir, "scratch", crypto.randomUUID()));
  return `[${paths.map(sqlString).join(",")}]`;
}

/** How many log rows the mixer has stored (`n`) and how many distinct records they are (`ids`). */
export async function countStoredLogs(
  mixer: TestMixer,
  scratchDir: string,
): Promise<{ n: number; ids: number }> {
  const keys = (await listStored(mixer, "telemetry/logs/")).map((f) => f.key);
  if (keys.length === 0) return { n: 0, ids: 0 };
  const paths = await downloadStored(mixer, keys, join(scratchDir, String(Date.now())));
  const [row] = await nativeQuery(
    `SELECT count(*)::INT AS n, count(DISTINCT record_id)::INT AS ids FROM read_parquet([${paths.map(sqlString).join(",")}])`,
  );
  return row as { n: number; ids: number };
}
