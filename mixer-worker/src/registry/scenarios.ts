import type { Scenario } from "../../../shared/scenario/index.ts";
import { scenarioSchema } from "../../../shared/scenario/index.ts";
import { type ImportOutcome, type VersionedFile, versionedFiles } from "./versioned-files.ts";

/** The registry's scenarios and activations tables (migrations/0006): plain reads and writes. */

/** One row of `scenarios` as D1 returns it. */
export interface ScenarioRow extends VersionedFile {
  name: string;
}

/** One row of `scenario_activations`. */
export interface ActivationRow {
  id: string;
  name: string;
  version: string;
  hash: string;
  activated_at: number;
  /** JSON: `[{ id, alias }]` (a rack name that matched no rack has no id). */
  targets: string;
}

const scenarioFiles = versionedFiles<ScenarioRow>("scenarios", "name");

/**
 * Stores a validated scenario under its name and version. The same content again changes nothing; other
 * content under an existing name and version is a conflict (versions are immutable: bump `meta.version`).
 *
 * @example const outcome = await insertScenario(env.REGISTRY, scenario, hash, yaml, Date.now());
 */
export function insertScenario(
  db: D1Database,
  scenario: Scenario,
  hash: string,
  yaml: string,
  now: number,
): Promise<ImportOutcome> {
  const { name, version, description = "" } = scenario.meta;
  const normal = JSON.stringify(scenario);
  return scenarioFiles.insert(db, name, { version, hash, description, yaml, normal, imported_at: now });
}

/** A scenario by name, at `version` or else the one imported last. */
export function findScenario(db: D1Database, name: string, version?: string): Promise<ScenarioRow | null> {
  return scenarioFiles.find(db, name, version);
}

/** Every version of every scenario (or of one), newest import first, without the file texts. */
export function listScenarios(
  db: D1Database,
  name?: string,
): Promise<Omit<ScenarioRow, "yaml" | "normal">[]> {
  return scenarioFiles.list(db, name);
}

/** The validated normal form kept beside the file (validated again on import; parsed, never trusted blind). */
export function scenarioOf(row: ScenarioRow): Scenario {
  return scenarioSchema.parse(JSON.parse(row.normal));
}

export async function insertActivation(db: D1Database, activation: ActivationRow): Promise<void> {
  await db
    .prepare(
      "INSERT INTO scenario_activations (id, name, version, hash, activated_at, targets) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(
      activation.id,
      activation.name,
      activation.version,
      activation.hash,
      activation.activated_at,
      activation.targets,
    )
    .run();
}

/** The last activation of a scenario (any version), or of every scenario when `name` is absent. */
export async function latestActivations(db: D1Database, name?: string): Promise<ActivationRow[]> {
  const latest = `SELECT a.* FROM scenario_activations a
     WHERE a.activated_at = (SELECT max(b.activated_at) FROM scenario_activations b WHERE b.name = a.name)`;
  const query = name ? db.prepare(`${latest} AND a.name = ?`).bind(name) : db.prepare(latest);
  return (await query.all<ActivationRow>()).results;
}
