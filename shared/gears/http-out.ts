import * as z from "zod";
import { gearDuration } from "./config-fields.ts";
import { defineGearType } from "./gear-type.ts";

/**
 * `http-out`: sends each message's `data` as JSON to `url`, retrying network errors, 429 and 5xx with
 * exponential backoff; the answer (any status it ends with below 500, or the last 5xx) goes to `response`
 * with `data: { status, body }`. Header values may name the rack's secrets: `${PAYMENT_API_KEY}`, resolved
 * when the gear starts (a missing one stops the gear from starting, naming it).
 */
export const httpOutGearType = defineGearType({
  type: "http-out",
  description: "POST JSON to a URL with retries and backoff; the answer goes to the response port",
  config: z.strictObject({
    url: z.url({ protocol: /^https?$/ }),
    method: z.enum(["POST", "PUT", "PATCH"]).default("POST"),
    headers: z.record(z.string(), z.string()).default({}),
    timeout: gearDuration("5s"),
    /** Attempts after the first. */
    retries: z.int().min(0).max(10).default(3),
    /** First pause between attempts; doubles each time. */
    backoff: gearDuration("200ms"),
  }),
  inputs: ["in"],
  outputs: ["response"],
});
