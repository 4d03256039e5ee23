import type { FluxMsgDraft } from "../../../../shared/fluxmsg/produce.ts";
import { type TransformOp, transformGearType } from "../../../../shared/gears/transform.ts";
import { fieldPath, readField, writeField } from "../field-path.ts";
import { defineGear } from "../gear.ts";

type Op = (msg: FluxMsgDraft) => FluxMsgDraft;

/** An op with its paths split once, at start. */
function compile(op: TransformOp): Op {
  if ("set" in op) {
    const path = fieldPath(op.set);
    return (msg) => writeField(msg, path, op.value);
  }
  if ("delete" in op) {
    const path = fieldPath(op.delete);
    return (msg) => writeField(msg, path, undefined);
  }
  const from = fieldPath("copy" in op ? op.copy : op.rename);
  const to = fieldPath(op.to);
  const rename = "rename" in op;
  return (msg) => {
    const value = readField(msg, from);
    if (value === undefined) return msg;
    const copied = writeField(msg, to, value);
    return rename ? writeField(copied, from, undefined) : copied;
  };
}

/** `transform`: applies its ops in order to a copy of each message and emits it on `out`. */
export const transformGear = defineGear(transformGearType, (ctx) => {
  const ops = ctx.config.ops.map(compile);
  return {
    process(msg) {
      let out: FluxMsgDraft = msg;
      for (const op of ops) out = op(out);
      return ctx.emit("out", out);
    },
  };
});
