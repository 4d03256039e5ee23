import type { FluxMsg } from "../../../../shared/fluxmsg/message.ts";
import { logSinkGearType } from "../../../../shared/gears/log-sink.ts";
import { maskBySpec } from "../../journal/spec-view.ts";
import { defineGear, type GearContext } from "../gear.ts";

/**
 * The data a log line may show: a message a codec described (`meta.spec`) shows its data masked by that
 * spec, and none at all when the rack does not hold the spec or its hash key, so a card number never reaches
 * a log in clear.
 */
function loggableData(ctx: GearContext<unknown>, msg: FluxMsg): unknown {
  if (msg.meta.spec === undefined) return msg.data;
  const masked = maskBySpec(ctx.specs, msg);
  return masked.ok ? masked.msg.data : `(withheld: ${masked.reason})`;
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
