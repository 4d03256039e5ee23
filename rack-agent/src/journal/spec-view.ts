import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import { type FluxSpec, journalView } from "../../../shared/spec/index.ts";
import type { GearSpecs } from "../gears/gear.ts";
import type { JournalView } from "./journal-record.ts";

/**
 * The specs a rack holds, as gears see them: `get` by reference, and the key of a spec's `mask: hash` read
 * from the rack's sealed secret that `spec.hash_key` names.
 *
 * @example const specs = heldSpecs((ref) => part.specs[ref], rackSecrets);
 */
export function heldSpecs(
  get: (reference: string) => FluxSpec | undefined,
  secrets: { get(name: string): string | undefined },
): GearSpecs {
  return {
    get,
    hashKey: (spec) => {
      const value = spec.spec.hash_key === undefined ? undefined : secrets.get(spec.spec.hash_key);
      return value === undefined ? undefined : new TextEncoder().encode(value);
    },
  };
}

/** A message as its spec lets it be shown or kept, or why nothing of it may be. */
export type MaskedMessage =
  | { ok: true; msg: FluxMsg; promoted: Record<string, unknown>; spec: string }
  | { ok: false; reason: string };

/**
 * Masks a message that names a spec (`meta.spec`, `meta.spec_version`) with that spec: the one path by which
 * a spec'd message reaches a log line or the journal. Fails closed: a spec not held here, or a hash mask
 * without its key, gives a reason and no content.
 *
 * @example const masked = maskBySpec(ctx.specs, msg); if (masked.ok) log(masked.msg.data);
 */
export function maskBySpec(specs: GearSpecs, msg: FluxMsg): MaskedMessage {
  const id = msg.meta.spec;
  if (id === undefined) return { ok: false, reason: "the message names no spec" };
  const spec = specs.get(`${id}:${msg.meta.spec_version ?? ""}`);
  if (!spec) return { ok: false, reason: `spec ${id} is not held here` };
  try {
    const { msg: kept, promoted } = journalView(spec, msg, specs.hashKey(spec));
    return { ok: true, msg: kept, promoted, spec: id };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/** The journal's view over the rack's specs: masked content, or undefined (withheld) when it cannot be. */
export function specJournalView(specs: GearSpecs): JournalView {
  return (msg) => {
    const masked = maskBySpec(specs, msg);
    return masked.ok ? masked : undefined;
  };
}
