import type { FluxData } from "../../../shared/fluxmsg/message.ts";
import type { FluxMsgDraft } from "../../../shared/fluxmsg/produce.ts";

/**
 * Reading and writing a message's fields by the dotted paths gear configs use (`data.card.pan`,
 * `meta.channel`, `type`). Writes copy along the path and never change the message given: a message is
 * shared by every gear its port is wired to.
 */

type Container = Record<string, FluxData> | FluxData[];

function isContainer(value: unknown): value is Container {
  return typeof value === "object" && value !== null && !(value instanceof Uint8Array);
}

/** A dotted path split once, where a gear's config is read, not on every message. */
export type FieldPath = readonly [string, ...string[]];

/**
 * @example fieldPath("meta.http.status") // ["meta", "http.status"]
 */
export function fieldPath(path: string): FieldPath {
  const keys = path.split(".") as [string, ...string[]];
  // meta keys may hold dots themselves ("http.status"): the rest of the path is one key.
  return keys[0] === "meta" ? ["meta", keys.slice(1).join(".")] : keys;
}

/**
 * @example readField(msg, fieldPath("data.card.pan")) // "4111…", or undefined when any step is missing
 */
export function readField(msg: FluxMsgDraft, path: FieldPath): unknown {
  if (path[0] === "meta") return msg.meta[path[1] as string];
  let value: unknown = msg;
  for (const key of path) {
    if (!isContainer(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * A copy of `msg` with the field at `path` set (undefined deletes it); objects missing along a `data` path
 * are created. `meta` values are strings: others are written as JSON.
 *
 * @example writeField(msg, fieldPath("data.response_code"), "05")
 */
export function writeField(msg: FluxMsgDraft, path: FieldPath, value: unknown): FluxMsgDraft {
  const root = path[0];
  if (root === "type") return value === undefined ? msg : { ...msg, type: String(value) };
  if (root === "meta") {
    const key = path[1] as string;
    if (value === undefined) return { ...msg, meta: without(msg.meta, key) as Record<string, string> };
    return {
      ...msg,
      meta: { ...msg.meta, [key]: typeof value === "string" ? value : JSON.stringify(value) },
    };
  }
  return { ...msg, data: writeIn(msg.data, path, 1, value as FluxData | undefined) as FluxData };
}

/** `node` copied with `keys[at…]` set to `value` (or deleted when undefined). */
function writeIn(node: unknown, keys: FieldPath, at: number, value: FluxData | undefined): unknown {
  if (at === keys.length) return value ?? null;
  const key = keys[at] as string;
  const last = at === keys.length - 1;
  if (Array.isArray(node)) {
    const copy = [...node];
    const slot = copy as unknown as Record<string, unknown>;
    if (last && value === undefined) copy.splice(Number(key), 1);
    else slot[key] = writeIn(slot[key], keys, at + 1, value);
    return copy;
  }
  const source = isContainer(node) ? (node as Record<string, unknown>) : {};
  if (last && value === undefined) return without(source, key);
  return { ...source, [key]: writeIn(source[key], keys, at + 1, value) };
}

/** A copy without `key`, built rather than `delete`d: deleting leaves an object in V8's slow dictionary mode. */
function without(source: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const name of Object.keys(source)) if (name !== key) copy[name] = source[name];
  return copy;
}
