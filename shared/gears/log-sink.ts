import * as z from "zod";
import { LOG_RECORD_LEVELS } from "../telemetry/records.ts";
import { defineGearType } from "./gear-type.ts";

/** `log-sink`: logs each message (type, flux_id and, unless `data: false`, its data) at a level. */
export const logSinkGearType = defineGearType({
  type: "log-sink",
  description: "logs each message at a level",
  config: z.strictObject({
    level: z.enum(LOG_RECORD_LEVELS).default("info"),
    data: z.boolean().default(true),
  }),
  inputs: ["in"],
  outputs: [],
});
