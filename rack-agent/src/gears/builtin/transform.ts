import type { FluxMsgDraft } from "../../../../shared/fluxmsg/produce.ts";
import { type TransformOp, transformGearType } from "../../../../shared/gears/transform.ts";
import { readField, writeField } from "../field-path.ts";
import { defineGear } from "../gear.ts";

function apply(msg: FluxMsgDraft, op: TransformOp): FluxMsgDraft {
  if ("set" in op) return writeField(msg, op.set, op.value);
  if ("delete" in op) return writeField(msg, op.delete, undefined);
  const from = "copy" in op ? op.copy : op.rename;
  const value = readField(msg, from);
  if (value === undefined) return msg;
  const copied = writeField(msg, op.to, value);
  return "rename" in op ? writeField(copied, from, undefined) : copied;
}

/** `transform`: applies its ops in order to a copy of each message and emits it on `out`. */
export const transformGear = defineGear(transformGearType, (ctx) => ({
  process(msg) {
    return ctx.emit("out", ctx.config.ops.reduce(apply, msg as FluxMsgDraft));
  },
}));
