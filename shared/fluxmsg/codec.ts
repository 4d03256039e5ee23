import type { z } from "zod";
import { cbor } from "./cbor.ts";
import { type FluxMsg, fluxMsgSchema } from "./message.ts";

/**
 * A fluxMsg as CBOR bytes: what guaranteed lanes carry, dead letters hold and the journal stores.
 *
 * @example js.publish(subject, encodeFluxMsg(msg), { msgID: msg.id });
 */
export function encodeFluxMsg(msg: FluxMsg): Uint8Array {
  return cbor.encode(msg);
}

/** Bytes that are not a fluxMsg: bad CBOR, or a value that fails the schema (then `issues` says where). */
export class FluxMsgDecodeError extends Error {
  constructor(
    message: string,
    readonly issues: z.core.$ZodIssue[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "FluxMsgDecodeError";
  }
}

/**
 * Decodes and validates a fluxMsg; throws {@link FluxMsgDecodeError} naming the first fields at fault.
 *
 * @example
 * try { const msg = decodeFluxMsg(m.data); } catch (e) { deadLetter(m, (e as Error).message); }
 */
export function decodeFluxMsg(bytes: Uint8Array): FluxMsg {
  let value: unknown;
  try {
    value = cbor.decode(bytes);
  } catch (cause) {
    throw new FluxMsgDecodeError(`not CBOR: ${(cause as Error).message}`, [], { cause });
  }
  return fluxMsgFromValue(value);
}

/**
 * Validates a value already decoded from CBOR as a fluxMsg (what {@link decodeFluxMsg} does after decoding),
 * for a reader that decoded a container around it; throws {@link FluxMsgDecodeError}.
 *
 * @example const msg = fluxMsgFromValue(cbor.decode(bytes));
 */
export function fluxMsgFromValue(value: unknown): FluxMsg {
  const parsed = fluxMsgSchema.safeParse(value);
  if (parsed.success) {
    // cbor-x gives a Node Buffer in Node and a Uint8Array in workerd: hand out the same type everywhere.
    const raw = parsed.data.raw;
    if (raw) parsed.data.raw = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    return parsed.data;
  }
  const where = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join(".") || "(message)"}: ${issue.message}`)
    .join("; ");
  throw new FluxMsgDecodeError(`not a fluxMsg: ${where}`, parsed.error.issues, { cause: parsed.error });
}
