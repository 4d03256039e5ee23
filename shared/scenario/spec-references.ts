import type { GearCatalogue } from "../gears/catalogue.ts";
import type { DocPath } from "./scenario-error.ts";

/** A spec a gear's config names, and where in its config. */
export interface GearSpecReference {
  path: DocPath;
  reference: string;
}

/**
 * The fluxSpecs a gear reads, as its type declares them (a config its type's schema refuses names none: the
 * validator reports that config already).
 *
 * @example gearSpecReferences({ type: "codec", config: { spec: "visa-v1" } }, BUILT_IN_GEAR_TYPES)
 * // [{ path: ["spec"], reference: "visa-v1" }]
 */
export function gearSpecReferences(
  gear: { type: string; config: unknown },
  catalogue: GearCatalogue,
): readonly GearSpecReference[] {
  const declaration = catalogue.get(gear.type);
  if (!declaration?.specs) return [];
  const parsed = declaration.config.safeParse(gear.config);
  return parsed.success ? declaration.specs(parsed.data) : [];
}
