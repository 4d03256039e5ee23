import * as z from "zod";
import { fieldPath, writablePath } from "./config-fields.ts";
import { defineGearType } from "./gear-type.ts";

const setOp = z.strictObject({ set: writablePath, value: z.json() });
const copyOp = z.strictObject({ copy: fieldPath, to: writablePath });
const renameOp = z.strictObject({ rename: writablePath, to: writablePath });
const deleteOp = z.strictObject({ delete: writablePath });

/** One step of a transform, by its key: `set` (a constant), `copy`, `rename` or `delete`. */
export const transformOpSchema = z.union([setOp, copyOp, renameOp, deleteOp], {
  error: "expected one of { set, value }, { copy, to }, { rename, to } or { delete }",
});
export type TransformOp = z.infer<typeof transformOpSchema>;

/**
 * `transform`: a declarative field mapping applied in order (no code is evaluated). Paths are dotted
 * (`data.card.pan`, `meta.channel`, `type`); missing intermediate objects are created on write, and a
 * copy or rename of a missing field does nothing.
 */
export const transformGearType = defineGearType({
  type: "transform",
  description: "declarative field mapping: set, copy, rename, delete",
  config: z.strictObject({ ops: z.array(transformOpSchema).default([]) }),
  inputs: ["in"],
  outputs: ["out"],
});
