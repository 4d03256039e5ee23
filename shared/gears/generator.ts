import * as z from "zod";
import { defineGearType } from "./gear-type.ts";

/** Built-in raw frame makers (see shared/spec/samples/). */
export const GENERATOR_PRESETS = ["visa-v1-auth"] as const;

/**
 * `generator`: makes sample messages at a steady rate, the same sequence every run (a seeded generator).
 * In `template`, a string `{{seq}}` is the message number, `{{random:LO:HI}}` an integer in [LO, HI] and
 * `{{pick:A,B,C}}` one of the words; other values are copied as they are. A `preset` makes realistic frames in
 * `raw` instead (`data` is then `{ seq }`): `visa-v1-auth` makes ISO 8583 card authorization requests as
 * `examples/specs/visa-v1.yaml` reads them, with Luhn-valid test card numbers.
 */
export const generatorGearType = defineGearType({
  type: "generator",
  description: "emits deterministic sample messages at a steady rate",
  config: z.strictObject({
    /** Messages per second. */
    rate: z.number().positive().max(1_000_000).default(1),
    /** How many in all; 0 never stops. */
    count: z.int().nonnegative().default(0),
    /** The messages' `type`. */
    type: z.string().min(1).default("sample"),
    seed: z.int().default(1),
    template: z
      .json()
      .default({ seq: "{{seq}}", amount: "{{random:1:5000}}", currency: "{{pick:EUR,USD,GBP}}" }),
    /** Frames in `raw` rather than `template` in `data`. */
    preset: z.enum(GENERATOR_PRESETS).optional(),
  }),
  inputs: [],
  outputs: ["out"],
});
