import { access, cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  applyRegistryMigrations,
  REGISTRY_PERSIST_PATHS,
} from "../../mixer-worker/cli/dev/registry-migrations.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Where the e2e project's global setup left a migrated registry (the test files run in other processes). */
const TEMPLATE_ENV = "TEST_MIXER_REGISTRY_TEMPLATE";

/**
 * Migrates one local registry for the whole e2e run, so each test mixer copies it instead of paying for a
 * `wrangler d1 migrations apply` of its own. Vitest's globalSetup: returns the teardown that removes it.
 */
export default async function setup(): Promise<() => Promise<void>> {
  // Several projects of one run (e2e and e2e-alone) share the template the first of them migrated; vitest
  // runs every project's teardown at the end of the run.
  if (process.env[TEMPLATE_ENV]) return async () => {};
  const dir = await mkdtemp(join(tmpdir(), "fluxrig-registry-template-"));
  await applyRegistryMigrations(dir, PROJECT_ROOT);
  process.env[TEMPLATE_ENV] = dir;
  return () => rm(dir, { recursive: true, force: true });
}

/**
 * Copies the migrated registry into a new store's persist dir (`<store.dir>/mixer`), unless it holds a
 * registry already or no template was prepared (outside the e2e project): the mixer then finds its
 * migrations applied and skips them.
 */
export async function seedRegistry(persistTo: string): Promise<void> {
  const template = process.env[TEMPLATE_ENV];
  if (!template) return;
  const exists = (path: string) =>
    access(path).then(
      () => true,
      () => false,
    );
  if (await exists(join(persistTo, REGISTRY_PERSIST_PATHS[0] as string))) return;
  for (const path of REGISTRY_PERSIST_PATHS) {
    await cp(join(template, path), join(persistTo, path), { recursive: true });
  }
}

/**
 * Where the test mixers of this run take turns to start (a dir inside the run's template, so each run has
 * its own), or undefined outside the e2e project.
 */
export function mixerStartLock(): string | undefined {
  const template = process.env[TEMPLATE_ENV];
  return template ? join(template, "mixer-start.lock") : undefined;
}
