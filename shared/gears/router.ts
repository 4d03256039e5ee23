import * as z from "zod";
import { fieldPath, portName } from "./config-fields.ts";
import { defineGearType } from "./gear-type.ts";

const OPERATORS = ["eq", "ne", "gt", "lt", "in", "exists", "matches"] as const;

function validRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** One test on one field; a condition holds exactly one operator. */
export const routeConditionSchema = z
  .strictObject({
    field: fieldPath,
    eq: z.json().optional(),
    ne: z.json().optional(),
    gt: z.number().optional(),
    lt: z.number().optional(),
    in: z.array(z.json()).optional(),
    exists: z.boolean().optional(),
    matches: z.string().refine(validRegex, "expected a regular expression").optional(),
  })
  .refine((c) => OPERATORS.filter((op) => c[op] !== undefined).length === 1, {
    message: `expected exactly one operator of ${OPERATORS.join(", ")}`,
  });
export type RouteCondition = z.infer<typeof routeConditionSchema>;

/** The output every message no route took goes to. */
export const DEFAULT_ROUTE = "default";

/**
 * `router`: sends each message to the first route whose conditions all hold (`when`, ANDed; an empty list
 * always holds), else to `default`. Its outputs are the routes' `to` names plus `default`.
 */
export const routerGearType = defineGearType({
  type: "router",
  description: "first matching route wins (eq, ne, gt, lt, in, exists, matches), else default",
  config: z.strictObject({
    routes: z.array(z.strictObject({ to: portName, when: z.array(routeConditionSchema).default([]) })).min(1),
  }),
  inputs: ["in"],
  outputs: (config) => [...new Set([...config.routes.map((route) => route.to), DEFAULT_ROUTE])],
});
