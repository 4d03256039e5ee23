/** Sets `value` at a dotted key in a nested object, creating tables on the way. */
export function setAtKey(tree: Record<string, unknown>, key: string, value: unknown): void {
  const path = key.split(".");
  let node = tree;
  for (const part of path.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}
