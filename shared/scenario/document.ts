import * as z from "zod";
import { LANES, scenarioName } from "./model.ts";

/**
 * The scenario file's shape as written, checked section by section: a broken gear or wire is reported and
 * the others are still checked, so a file's problems come all at once.
 */
export const documentSchema = z.strictObject({
  meta: z.strictObject({
    name: scenarioName,
    version: z.union([z.string().min(1), z.number()]).transform(String),
    description: z.string().optional(),
  }),
  /** Deliberate loops: without it a cycle of wires is refused (see the validator). */
  allow_cycles: z.boolean().default(false),
  /** What the rack journals besides `journal` gears: every message crossing a guaranteed wire. */
  journal: z.strictObject({ guaranteed_wires: z.boolean().default(false) }).optional(),
  racks: z.record(
    scenarioName,
    z.strictObject({
      name: z.string().min(1).optional(),
      selector: z.record(z.string(), z.string()).optional(),
    }),
  ),
  /** A list of gears with `name:`, or a map from name to gear. */
  gears: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())], {
    error: "expected a list of gears, or a map from gear name to gear",
  }),
  wires: z.array(z.unknown()).default([]),
});

const gearFields = {
  type: z.string().min(1),
  rack: scenarioName.optional(),
  config: z.record(z.string(), z.json()).default({}),
};
export const listedGearSchema = z.strictObject({ name: scenarioName, ...gearFields });
export const mappedGearSchema = z.strictObject(gearFields);

export const wireSchema = z.strictObject({
  from: z.string().min(1),
  to: z.string().min(1),
  lane: z.enum(LANES).optional(),
});
