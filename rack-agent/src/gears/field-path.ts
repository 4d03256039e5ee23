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
 * Writes fields of one message without changing it: the message, its `meta` and each container along a
 * `data` path are copied once, on the first write through them, however many writes follow (a transform's
 * ops). Undefined deletes a field; objects missing along a `data` path are created; `meta` values are
 * strings, others are written as JSON.
 *
 * @example new FieldWriter(msg).write(fieldPath("data.response_code"), "05").msg
 */
export class FieldWriter {
  #msg: FluxMsgDraft;
  #copied = false;
  /** Containers this writer made: written in place from then on. */
  readonly #owned: object[] = [];

  constructor(msg: FluxMsgDraft) {
    this.#msg = msg;
  }

  /** The message as written so far (the one given, while nothing was written). */
  get msg(): FluxMsgDraft {
    return this.#msg;
  }

  write(path: FieldPath, value: unknown): this {
    const root = path[0];
    if (root === "type" && value === undefined) return this;
    if (!this.#copied) {
      this.#msg = { ...this.#msg };
      this.#copied = true;
    }
    const msg = this.#msg;
    if (root === "type") msg.type = String(value);
    else if (root === "meta") {
      const key = path[1] as string;
      if (value === undefined) msg.meta = this.#mine(without(msg.meta, key)) as Record<string, string>;
      else {
        msg.meta = this.#own(msg.meta);
        msg.meta[key] = typeof value === "string" ? value : JSON.stringify(value);
      }
    } else msg.data = this.#writeIn(msg.data, path, 1, value as FluxData | undefined) as FluxData;
    return this;
  }

  /** `node` with `keys[at…]` set to `value` (or deleted when undefined), copied unless this writer made it. */
  #writeIn(node: unknown, keys: FieldPath, at: number, value: FluxData | undefined): unknown {
    if (at === keys.length) return value ?? null;
    const key = keys[at] as string;
    const last = at === keys.length - 1;
    if (last && value === undefined && !Array.isArray(node))
      return this.#mine(isContainer(node) ? without(node as Record<string, unknown>, key) : {});
    const copy = this.#own(isContainer(node) ? node : {}) as Record<string, unknown>;
    if (last && value === undefined) (copy as unknown as unknown[]).splice(Number(key), 1);
    else copy[key] = this.#writeIn(copy[key], keys, at + 1, value);
    return copy;
  }

  /** `node` itself when this writer made it, else a shallow copy that it now owns. */
  #own<T extends object>(node: T): T {
    if (this.#owned.includes(node)) return node;
    return this.#mine((Array.isArray(node) ? [...node] : { ...node }) as T);
  }

  #mine<T extends object>(node: T): T {
    this.#owned.push(node);
    return node;
  }
}

/** A copy without `key`, built rather than `delete`d: deleting leaves an object in V8's slow dictionary mode. */
function without(source: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const name of Object.keys(source)) if (name !== key) copy[name] = source[name];
  return copy;
}
