/**
 * Dotted paths into a message's `data` (`card.pan`, `items.0.sku`), split once per spec. Writes copy along
 * the path and never change what they were given: a message is shared by every gear its port feeds.
 */

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === "object" && value !== null && !(value instanceof Uint8Array);
}

/** @example readPath({ card: { pan: "4111" } }, ["card", "pan"]) // "4111" */
export function readPath(data: unknown, path: readonly string[]): unknown {
  let value = data;
  for (const key of path) {
    if (!isContainer(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * A copy of `data` with `value` at `path` (undefined removes it); objects missing along the path are made.
 *
 * @example writePath({}, ["card", "pan"], "4111") // { card: { pan: "4111" } }
 */
export function writePath(data: unknown, path: readonly string[], value: unknown): unknown {
  const [key, ...rest] = path;
  if (key === undefined) return value;
  const container: Container = isContainer(data) ? data : {};
  const next = rest.length === 0 ? value : writePath(readPath(container, [key]), rest, value);
  if (Array.isArray(container) && /^\d+$/.test(key)) {
    const copy = [...container];
    copy[Number(key)] = next;
    return copy;
  }
  const copy: Record<string, unknown> = { ...(container as Record<string, unknown>) };
  if (next === undefined) delete copy[key];
  else copy[key] = next;
  return copy;
}
