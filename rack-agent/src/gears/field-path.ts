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

/**
 * @example readField(msg, "data.card.pan") // "4111…", or undefined when any step is missing
 */
export function readField(msg: FluxMsgDraft, path: string): unknown {
  const keys = path.split(".");
  // meta keys may hold dots themselves ("http.status"): the rest of the path is one key.
  if (keys[0] === "meta") return msg.meta[keys.slice(1).join(".")];
  let value: unknown = msg;
  for (const key of keys) {
    if (!isContainer(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * A copy of `msg` with the field at `path` set (undefined deletes it); objects missing along a `data` path
 * are created. `meta` values are strings: others are written as JSON.
 *
 * @example writeField(msg, "data.response_code", "05")
 */
export function writeField(msg: FluxMsgDraft, path: string, value: unknown): FluxMsgDraft {
  const [root, ...rest] = path.split(".") as [string, ...string[]];
  if (root === "type") return value === undefined ? msg : { ...msg, type: String(value) };
  if (root === "meta") {
    const meta = { ...msg.meta };
    if (value === undefined) delete meta[rest.join(".")];
    else meta[rest.join(".")] = typeof value === "string" ? value : JSON.stringify(value);
    return { ...msg, meta };
  }
  return { ...msg, data: writeIn(msg.data, rest, value as FluxData | undefined) as FluxData };
}

function writeIn(node: unknown, keys: string[], value: FluxData | undefined): unknown {
  if (keys.length === 0) return value ?? null;
  const [key, ...rest] = keys as [string, ...string[]];
  const copy: Record<string, unknown> | unknown[] = Array.isArray(node)
    ? [...node]
    : isContainer(node)
      ? { ...(node as Record<string, unknown>) }
      : {};
  const slot = copy as Record<string, unknown>;
  if (rest.length === 0 && value === undefined) {
    if (Array.isArray(copy)) copy.splice(Number(key), 1);
    else delete slot[key];
  } else {
    slot[key] = writeIn(slot[key], rest, value);
  }
  return copy;
}
