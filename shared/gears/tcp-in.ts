import * as z from "zod";
import { gearDuration, listenPort } from "./config-fields.ts";
import { defineGearType } from "./gear-type.ts";

/**
 * `tcp-in`: a TCP listener speaking frames with a 2-byte big-endian length prefix, as card switches do. Each
 * frame becomes a message on `out` with the frame in `raw` (and, with `decode: json` or `utf8`, its content in
 * `data`); a message on `reply` with the same flux_id is written back on that connection, framed, encoded
 * the same way (`data` as JSON or text, or `raw` with `decode: none`).
 */
export const tcpInGearType = defineGearType({
  type: "tcp-in",
  description: "length-prefixed TCP frames in (2-byte big-endian), replies written back framed",
  config: z.strictObject({
    host: z.string().min(1).default("127.0.0.1"),
    port: listenPort,
    type: z.string().min(1).default("tcp.frame"),
    decode: z.enum(["none", "utf8", "json"]).default("none"),
    /** A reply arriving later than this after its frame is dropped (the switch has given up). */
    reply_timeout: gearDuration("30s"),
  }),
  inputs: ["reply"],
  outputs: ["out"],
  terminalInputs: ["reply"],
});
