import * as z from "zod";
import { gearDuration, gearSize, listenPort } from "./config-fields.ts";
import { defineGearType } from "./gear-type.ts";

/**
 * `http-in`: an HTTP endpoint. Each request becomes a message on `out` (a JSON body decoded into `data`, any
 * other body in `raw`); a message on `reply` with the same flux_id answers it (status from
 * `meta["http.status"]`, default 200, body the message's `data` as JSON), and a request not answered within
 * `reply_timeout` (or with nothing wired to `reply`) gets 202 with its flux_id.
 */
export const httpInGearType = defineGearType({
  type: "http-in",
  description: "HTTP endpoint: requests in, answers from the reply port or 202 with the flux_id",
  config: z.strictObject({
    host: z.string().min(1).default("127.0.0.1"),
    port: listenPort,
    /** Only this path is served; others get 404. */
    path: z.string().startsWith("/").default("/"),
    type: z.string().min(1).default("http.request"),
    reply_timeout: gearDuration("5s"),
    max_body: gearSize("1MiB"),
  }),
  inputs: ["reply"],
  outputs: ["out"],
  terminalInputs: ["reply"],
});
