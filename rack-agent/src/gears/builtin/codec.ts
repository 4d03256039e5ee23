import type { FluxData } from "../../../../shared/fluxmsg/message.ts";
import { codecGearType } from "../../../../shared/gears/codec.ts";
import { decodeWithSpec, encodeWithSpec, SpecCodecError } from "../../../../shared/spec/index.ts";
import { defineGear } from "../gear.ts";

/**
 * `codec`: `decode` turns `raw` into `data` with the spec (fields merged into an object `data`, replacing any
 * other), `encode` turns `data` into `raw`; both set `type` by the spec's rule and `meta.spec`,
 * `meta.spec_version`. A message that does not fit the spec is dead-lettered with the reason, which names the
 * field and offset and never a value (it may be a card number), so it is safe in logs and spans.
 */
export const codecGear = defineGear(codecGearType, (ctx) => {
  const { mode } = ctx.config;
  const spec = ctx.specs.get(ctx.config.spec);
  return {
    init() {
      if (!spec) {
        throw new Error(
          `spec ${ctx.config.spec} is not held by this rack (the mixer sends it with the scenario part: import it with fluxrig spec import, then activate again)`,
        );
      }
    },
    process(msg) {
      if (!spec) return undefined;
      const meta = { ...msg.meta, spec: spec.spec.id, spec_version: spec.spec.version };
      try {
        if (mode === "encode") {
          const { raw, type } = encodeWithSpec(spec, msg.data);
          return ctx.emit("out", { ...msg, raw, type, meta });
        }
        if (!msg.raw) {
          ctx.deadLetter(msg, `codec ${ctx.name}: no raw to decode with spec ${spec.spec.id}`);
          return undefined;
        }
        const { data, type } = decodeWithSpec(spec, msg.raw);
        const base =
          msg.data !== null && typeof msg.data === "object" && !Array.isArray(msg.data) ? msg.data : {};
        return ctx.emit("out", { ...msg, data: { ...base, ...data } as FluxData, type, meta });
      } catch (error) {
        if (!(error instanceof SpecCodecError)) throw error;
        ctx.deadLetter(
          msg,
          `codec ${ctx.name}: does not ${mode} with spec ${spec.spec.id} ${spec.spec.version}: ${error.message}`,
        );
        return undefined;
      }
    },
  };
});
