import * as z from "zod";

/** What a config leaf holds; decides how env vars and flags are coerced and how errors read. */
export type LeafKind =
  | "string"
  | "int"
  | "number"
  | "boolean"
  | "enum"
  | "list"
  | "map"
  | "duration"
  | "size"
  | "url";

export interface ConfigLeaf {
  /** Dotted key path, e.g. `observability.embedded.storage.compression`. */
  key: string;
  path: string[];
  kind: LeafKind;
  default: unknown;
  secret: boolean;
  /** Allowed values, for enums. */
  values?: readonly string[];
  description?: string;
}

type Meta = { kind?: LeafKind; secret?: boolean; description?: string };

function metaOf(schema: z.ZodType): Meta {
  return (schema.meta() as Meta | undefined) ?? {};
}

/** Peels default/prefault/optional wrappers, keeping the first default value and any metadata met on the way. */
function unwrap(schema: z.ZodType): { inner: z.ZodType; meta: Meta; default: unknown } {
  let current = schema;
  let meta: Meta = {};
  let fallback: unknown;
  for (;;) {
    meta = { ...metaOf(current), ...meta };
    if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault) {
      if (fallback === undefined) fallback = current.def.defaultValue;
      current = current.def.innerType as z.ZodType;
    } else if (current instanceof z.ZodOptional) {
      current = current.def.innerType as z.ZodType;
    } else {
      return { inner: current, meta: { ...metaOf(current), ...meta }, default: fallback };
    }
  }
}

function kindOf(inner: z.ZodType, meta: Meta): LeafKind {
  if (meta.kind) return meta.kind;
  if (inner instanceof z.ZodEnum) return "enum";
  if (inner instanceof z.ZodBoolean) return "boolean";
  if (inner instanceof z.ZodNumber)
    return inner.format === "safeint" || inner.format === "int32" ? "int" : "number";
  if (inner instanceof z.ZodArray) return "list";
  if (inner instanceof z.ZodRecord) return "map";
  return "string";
}

/**
 * Lists every leaf of a config schema, depth first, in declaration order.
 * Everything that must agree with the schema (defaults, env-var names, flags, secret masking) derives from this.
 */
export function configLeaves(schema: z.ZodObject, prefix: string[] = []): ConfigLeaf[] {
  const leaves: ConfigLeaf[] = [];
  for (const [name, field] of Object.entries(schema.shape)) {
    const path = [...prefix, name];
    const { inner, meta, default: fallback } = unwrap(field as z.ZodType);
    if (inner instanceof z.ZodObject) {
      leaves.push(...configLeaves(inner, path));
      continue;
    }
    const kind = kindOf(inner, meta);
    leaves.push({
      key: path.join("."),
      path,
      kind,
      default: fallback,
      secret: meta.secret === true,
      ...(inner instanceof z.ZodEnum ? { values: inner.options as string[] } : {}),
      ...(meta.description ? { description: meta.description } : {}),
    });
  }
  return leaves;
}

/** The dotted paths of every table (section) in a schema, e.g. `logging`, `logging.throttling`. */
export function configSections(schema: z.ZodObject, prefix: string[] = []): string[] {
  const out: string[] = [];
  for (const [name, field] of Object.entries(schema.shape)) {
    const { inner } = unwrap(field as z.ZodType);
    if (inner instanceof z.ZodObject) {
      const path = [...prefix, name];
      out.push(path.join("."), ...configSections(inner, path));
    }
  }
  return out;
}
