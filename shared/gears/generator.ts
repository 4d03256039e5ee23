import { z } from "zod";
import { defineGearType } from "./gear-type.ts";

/**
 * `generator`: makes sample messages at a steady rate, the same sequence every run (a seeded generator).
 * In `template`, a string `{{seq}}` is the message number, `{{random:LO:HI}}` an integer in [LO, HI] and
 * `{{pick:A,B,C}}` one of the words; other values are copied as they are.
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
  }),
  inputs: [],
  outputs: ["out"],
});
