import * as z from "zod";
import { NAME_PATTERN } from "../fluxmsg/message.ts";
import { defineGearType } from "./gear-type.ts";

/** `visa-v1` or `visa-v1:1.0.0`: a spec the mixer holds, by id and optionally version. */
const specReference = z
  .string()
  .max(260)
  .refine((text) => {
    const [id, version, ...rest] = text.split(":");
    return rest.length === 0 && NAME_PATTERN.test(id ?? "") && (version === undefined || version.length > 0);
  }, "expected a spec id, or id:version (visa-v1, visa-v1:1.0.0)");

/**
 * `codec`: decodes `raw` with a fluxSpec into `data` (mode `decode`), or encodes `data` into `raw` (mode
 * `encode`), sets the message's `type` by the spec's `msg_type` rule and `meta.spec` to the spec's id. A
 * frame that does not decode is dead-lettered with the field and the offset at fault (never its value).
 * The mixer refuses a scenario naming a spec it does not hold, and pushes the spec to the rack with its part.
 */
export const codecGearType = defineGearType({
  type: "codec",
  description: "decodes raw into data (or encodes data into raw) with a fluxSpec",
  config: z.strictObject({
    spec: specReference,
    mode: z.enum(["decode", "encode"]).default("decode"),
  }),
  inputs: ["in"],
  outputs: ["out"],
  specs: (config) => [{ path: ["spec"], reference: config.spec }],
});
