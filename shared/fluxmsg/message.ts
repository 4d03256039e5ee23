import * as z from "zod";
import { parseTraceparent, TRACEPARENT_EXPECTED } from "./traceparent.ts";

/** A name that is one NATS subject token and one segment of a wire's `gear.port`: no dots, no wildcards. */
export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const name = z.string().regex(NAME_PATTERN, "expected letters, digits, '_' or '-' (no dots or spaces)");
/** Epoch milliseconds, UTC: the form telemetry records use, so a message and its spans sort together. */
const epochMs = z.int().nonnegative();

/** Where a message was emitted: a rack's name, a gear's name in the scenario, one of its output ports. */
export const fluxEndpointSchema = z.object({ rack: z.string().min(1), gear: name, port: name });
export type FluxEndpoint = z.infer<typeof fluxEndpointSchema>;

/** One step of a message's route: the output port it left by, and when. */
export const fluxHopSchema = fluxEndpointSchema.extend({ ts: epochMs });
export type FluxHop = z.infer<typeof fluxHopSchema>;

/**
 * fluxMsg, the one message between gears, on every lane and in the journal.
 *
 * - `id` is the flux_id, a UUID v7 made where the message entered the platform; it stays the same across
 *   hops (its time names the hour partition the message is stored in, and replies are matched by it).
 * - `ref_id` names another message this one answers or derives from.
 * - `trace` is a W3C traceparent: each hop is a child span of the same trace.
 * - `ts` is epoch milliseconds (not ISO text): the same unit as telemetry's `ts` and the id's own clock,
 *   compact in CBOR, and compared without parsing.
 * - `data` holds decoded fields (JSON-like), `raw` the bytes as received, when there were any.
 * - `path` lists the hops so far; its length is what `rack.max_hops` bounds.
 *
 * @example
 * const msg = fluxMsgSchema.parse(cbor.decode(bytes));
 */
export const fluxMsgSchema = z.object({
  id: z.uuid({ version: "v7" }),
  ref_id: z.uuid().optional(),
  trace: z.string().refine((text) => parseTraceparent(text) !== undefined, TRACEPARENT_EXPECTED),
  src: fluxEndpointSchema,
  meta: z.record(z.string(), z.string()),
  type: z.string().min(1).max(255),
  data: z.json(),
  raw: z.instanceof(Uint8Array).optional(),
  path: z.array(fluxHopSchema),
  ts: epochMs,
});
export type FluxMsg = z.infer<typeof fluxMsgSchema>;
/** A JSON-like value, as `data` holds. */
export type FluxData = FluxMsg["data"];
