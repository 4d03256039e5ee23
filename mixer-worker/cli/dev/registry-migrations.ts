import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runWrangler } from "./wrangler-process.ts";

/** Written under the persist dir after an apply: the migrations that local D1 holds, by name and content hash. */
const APPLIED_FILE = "registry-migrations.json";

/** The project's registry migrations (`migrations/*.sql`), each with the hash of its text, in order. */
async function migrationSet(projectRoot: string): Promise<string> {
  const dir = join(projectRoot, "migrations");
  const names = (await readdir(dir)).filter((name) => name.endsWith(".sql")).sort();
  const files = await Promise.all(
    names.map(
      async (name) =>
        `${name} ${createHash("sha256")
          .update(await readFile(join(dir, name)))
          .digest("hex")}`,
    ),
  );
  return `${JSON.stringify(files, null, 2)}\n`;
}

/**
 * Applies the registry migrations to the local D1 persisted under `persistTo`, unless the last apply there
 * applied these very files: `wrangler d1 migrations apply` starts a workerd of its own (seconds of CPU), and
 * a restart on the same store has nothing to apply. Returns whether it ran.
 *
 * @example await applyRegistryMigrations(join(storeDir, "mixer"), PROJECT_ROOT);
 */
export async function applyRegistryMigrations(persistTo: string, projectRoot: string): Promise<boolean> {
  const wanted = await migrationSet(projectRoot);
  const marker = join(persistTo, APPLIED_FILE);
  const applied = await readFile(marker, "utf8").catch(() => undefined);
  if (applied === wanted) return false;
  await runWrangler(
    ["d1", "migrations", "apply", "REGISTRY", "--local", "--persist-to", persistTo],
    projectRoot,
  );
  await writeFile(marker, wanted);
  return true;
}

/** The files of a persist dir that hold the registry (local D1) and the record of what was applied to it. */
export const REGISTRY_PERSIST_PATHS = [join("v3", "d1"), APPLIED_FILE];
