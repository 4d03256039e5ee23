import { type TransformOp, transformGearType } from "../../../../shared/gears/transform.ts";
import { FieldWriter, fieldPath, readField } from "../field-path.ts";
import { defineGear } from "../gear.ts";

type Op = (writer: FieldWriter) => void;

/** An op with its paths split once, at start. */
function compile(op: TransformOp): Op {
  if ("set" in op) {
    const path = fieldPath(op.set);
    return (writer) => void writer.write(path, op.value);
  }
  if ("delete" in op) {
    const path = fieldPath(op.delete);
    return (writer) => void writer.write(path, undefined);
  }
  const from = fieldPath("copy" in op ? op.copy : op.rename);
  const to = fieldPath(op.to);
  const rename = "rename" in op;
  return (writer) => {
    const value = readField(writer.msg, from);
    if (value === undefined) return;
    writer.write(to, value);
    if (rename) writer.write(from, undefined);
  };
}

/** `transform`: applies its ops in order to a copy of each message (copied once, not per op) and emits it on `out`. */
export const transformGear = defineGear(transformGearType, (ctx) => {
  const ops = ctx.config.ops.map(compile);
  return {
    process(msg) {
      const writer = new FieldWriter(msg);
      for (const op of ops) op(writer);
      return ctx.emit("out", writer.msg);
    },
  };
});
