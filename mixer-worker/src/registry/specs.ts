import { type FluxSpec, fluxSpecSchema } from "../../../shared/spec/index.ts";
import { type ImportOutcome, type VersionedFile, versionedFiles } from "./versioned-files.ts";

/** The registry's specs table (migrations/0007): plain reads and writes. */

/** One row of `specs` as D1 returns it. */
export interface SpecRow extends VersionedFile {
  id: string;
}

export type SpecSummary = Omit<SpecRow, "yaml" | "normal">;

const specFiles = versionedFiles<SpecRow>("specs", "id");

/**
 * Stores a validated spec under its id and version; the same content again changes nothing, other content
 * under an existing id and version is a conflict (versions are immutable, as scenarios').
 *
 * @example const outcome = await insertSpec(env.REGISTRY, spec, hash, yaml, Date.now());
 */
export function insertSpec(
  db: D1Database,
  spec: FluxSpec,
  hash: string,
  yaml: string,
  now: number,
): Promise<ImportOutcome> {
  const { id, version, description = "" } = spec.spec;
  const normal = JSON.stringify(spec);
  return specFiles.insert(db, id, { version, hash, description, yaml, normal, imported_at: now });
}

/** A spec by id, at `version` or else the one imported last. */
export function findSpec(db: D1Database, id: string, version?: string): Promise<SpecRow | null> {
  return specFiles.find(db, id, version);
}

/** Every version of every spec (or of one), newest import first, without the file texts. */
export function listSpecs(db: D1Database, id?: string): Promise<SpecSummary[]> {
  return specFiles.list(db, id);
}

/** The versions held of each spec id: what scenario validation checks spec references against. */
export async function heldSpecVersions(db: D1Database): Promise<Map<string, string[]>> {
  const held = new Map<string, string[]>();
  for (const { id, version } of await listSpecs(db)) held.set(id, [...(held.get(id) ?? []), version]);
  return held;
}

/** The normal form kept beside the file, parsed (never trusted blind). */
export function specOf(row: SpecRow): FluxSpec {
  return fluxSpecSchema.parse(JSON.parse(row.normal));
}
