import type { FluxMsg } from "../../../../shared/fluxmsg/message.ts";
import { logSinkGearType } from "../../../../shared/gears/log-sink.ts";
import { journalView } from "../../../../shared/spec/index.ts";
import { defineGear, type GearContext } from "../gear.ts";

/**
 * The data a log line may show: a message a codec described (`meta.spec`) shows its data masked by that
 * spec, and none at all when the rack does not hold the spec or its hash key, so a card number never reaches
 * a log in clear.
 */
function loggableData(ctx: GearContext<unknown>, msg: FluxMsg): unknown {
  const id = msg.meta.spec;
  if (id === undefined) return msg.data;
  const spec = ctx.specs.get(`${id}:${msg.meta.spec_version ?? ""}`);
  if (!spec) return `(withheld: spec ${id} is not held here)`;
  try {
    return journalView(spec, msg, ctx.specs.hashKey(spec)).msg.data;
  } catch (error) {
    return `(withheld: ${(error as Error).message})`;
  }
}

/** `log-sink`: one log line per message, with its flux_id (and its data, masked by its spec, unless `data: false`). */
export const logSinkGear = defineGear(logSinkGearType, (ctx) => ({
  process(msg) {
    const attributes = ctx.config.data
      ? { type: msg.type, data: loggableData(ctx, msg) }
      : { type: msg.type };
    ctx.log[ctx.config.level](`${msg.type} ${msg.id}`, attributes, msg.id);
  },
}));
