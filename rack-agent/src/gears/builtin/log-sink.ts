import { logSinkGearType } from "../../../../shared/gears/log-sink.ts";
import { defineGear } from "../gear.ts";

/** `log-sink`: one log line per message, with its flux_id (and its data unless `data: false`). */
export const logSinkGear = defineGear(logSinkGearType, (ctx) => ({
  process(msg) {
    const attributes = ctx.config.data ? { type: msg.type, data: msg.data } : { type: msg.type };
    ctx.log[ctx.config.level](`${msg.type} ${msg.id}`, attributes, msg.id);
  },
}));
