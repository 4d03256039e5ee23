import * as z from "zod";
import { NAME_PATTERN } from "../fluxmsg/message.ts";

/** A spec's id: one path segment of `messages/fluxSpec/<id>/` and one subject token. */
export const specId = z
  .string()
  .max(128)
  .regex(NAME_PATTERN, "expected letters, digits, '_' or '-' (no dots or spaces)");

/** A field's name: a key of `data` and of `promoted`. */
const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected letters, digits or '_'");

/** A dotted path into `data` (`card.pan`, `items.0.sku`): where a field lives in decoded form. */
export const dataPath = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "expected a dotted path into data, such as card.pan");

/** How a field's value is typed in `data`: text, a whole number, a number with `scale` decimals, or bytes (hex). */
export const FIELD_TYPES = ["string", "int", "decimal", "binary"] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/**
 * `pan` keeps the first 6 and last 4 characters (the rest `*`; shorter than 13: all `*`), `hash` a keyed
 * HMAC-SHA256 in hex, `drop` removes the field.
 */
export const MASKS = ["pan", "hash", "drop"] as const;
export type Mask = (typeof MASKS)[number];

/** ISO 8583 length encodings: a fixed length, or a 2- or 3-digit ASCII length prefix. */
export const ISO_LENGTH_FORMATS = ["fixed", "llvar", "lllvar"] as const;

/** Where a field is in an ISO 8583 frame: the MTI, or a data element with its length encoding. */
export const isoLocationSchema = z.union(
  [
    z.strictObject({ field: z.literal("mti") }),
    z.strictObject({
      field: z.int().min(2).max(128),
      format: z.enum(ISO_LENGTH_FORMATS),
      /** The exact length (`fixed`) or the most a prefix may say (`llvar` ≤ 99, `lllvar` ≤ 999). */
      length: z.int().min(1).max(999),
    }),
  ],
  { error: "expected { field: mti } or { field: 2..128, format: fixed|llvar|lllvar, length }" },
);
export type IsoLocation = z.infer<typeof isoLocationSchema>;

export const specFieldSchema = z.strictObject({
  name: fieldName,
  description: z.string().optional(),
  type: z.enum(FIELD_TYPES).default("string"),
  /** Decimals of a `decimal` held as digits in raw: `000000001500` with scale 2 is 15. */
  scale: z.int().min(0).max(12).optional(),
  /** Where it lives in `data`; default its name. */
  path: dataPath.optional(),
  /** In an `iso8583` raw. */
  iso8583: isoLocationSchema.optional(),
  /** In a `fixed` raw: bytes [offset, offset + length). */
  offset: z.int().min(0).max(1_048_576).optional(),
  length: z.int().min(1).max(65_536).optional(),
  /** Copied (masked) into the journal's `promoted` column. */
  promote: z.boolean().default(false),
  mask: z.enum(MASKS).optional(),
});
export type SpecField = z.infer<typeof specFieldSchema>;

/** How `raw` is laid out: ISO 8583 (MTI, bitmap, data elements), fixed positions, or JSON text (data-only specs). */
export const specFormatSchema = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({
      kind: z.literal("iso8583"),
      /** `binary`: 8 bytes per bitmap (as Visa BASE I and most switches); `hex`: 16 ASCII hex digits. */
      bitmap: z.enum(["binary", "hex"]).default("binary"),
    }),
    z.strictObject({ kind: z.literal("fixed") }),
    z.strictObject({ kind: z.literal("json") }),
  ],
  { error: "expected kind: iso8583, fixed or json" },
);
export type SpecFormat = z.infer<typeof specFormatSchema>;

/** How a message's `type` is set: a constant, or a field's value (through `map`, or after `prefix`). */
export const msgTypeRuleSchema = z.union(
  [
    z.strictObject({ fixed: z.string().min(1).max(255) }),
    z.strictObject({
      field: fieldName,
      /** Value → type; a value not listed does not decode. */
      map: z.record(z.string(), z.string().min(1).max(255)).optional(),
      prefix: z.string().max(200).optional(),
    }),
  ],
  { error: "expected { fixed: TYPE } or { field: NAME, map?: {VALUE: TYPE}, prefix? }" },
);
export type MsgTypeRule = z.infer<typeof msgTypeRuleSchema>;

export const specHeaderSchema = z.strictObject({
  id: specId,
  version: z.union([z.string().min(1).max(128), z.number()]).transform(String),
  description: z.string().optional(),
  /** The rack secret keying `mask: hash` (its name, e.g. SPEC_HASH_KEY; set with PUT …/secrets/{name}). */
  hash_key: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, "expected a secret's name, such as SPEC_HASH_KEY")
    .optional(),
});

/**
 * A validated fluxSpec in normal form (defaults filled in): what the mixer stores, hashes and pushes to racks
 * inside their scenario part, and what the codec gear and the journal read.
 */
export const fluxSpecSchema = z.object({
  spec: specHeaderSchema,
  msg_type: msgTypeRuleSchema,
  format: specFormatSchema,
  fields: z.array(specFieldSchema).min(1),
});
export type FluxSpec = z.infer<typeof fluxSpecSchema>;

/** A field's place in `data`. */
export function fieldDataPath(field: SpecField): string {
  return field.path ?? field.name;
}
