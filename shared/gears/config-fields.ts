import * as z from "zod";
import { parseDuration } from "../config/duration.ts";
import { parseSize } from "../config/size.ts";
import { NAME_PATTERN } from "../fluxmsg/message.ts";

/**
 * A duration in a gear's config, as config files write them ("250ms", "5s") or as milliseconds; parses to ms.
 *
 * @example z.strictObject({ timeout: gearDuration("5s") })
 */
export function gearDuration(defaultText: string) {
  return z
    .union([z.int().nonnegative(), z.string()], { error: 'expected a duration such as "250ms" or "5s"' })
    .transform((input, ctx) => {
      if (typeof input === "number") return input;
      const parsed = parseDuration(input);
      if (parsed.ok) return parsed.ms;
      ctx.addIssue({ code: "custom", message: parsed.error });
      return z.NEVER;
    })
    .prefault(defaultText);
}

/** A byte size ("1MiB", 65536); parses to bytes. */
export function gearSize(defaultValue: number | string) {
  return z
    .union([z.number(), z.string()])
    .transform((input, ctx) => {
      const parsed = parseSize(input);
      if (parsed.ok) return parsed.bytes;
      ctx.addIssue({ code: "custom", message: parsed.error });
      return z.NEVER;
    })
    .prefault(defaultValue);
}

/** A port or route name: one subject token. */
export const portName = z.string().regex(NAME_PATTERN, "expected letters, digits, '_' or '-'");

/** A TCP port to listen on; 0 takes a free one (tests). */
export const listenPort = z.int().min(0).max(65_535);

/**
 * A field of a message, by dotted path: `type`, `id`, `ref_id`, `meta.<key>`, `data` or `data.<a>.<b>`
 * (array items by index: `data.items.0.sku`).
 */
export const FIELD_PATH = /^(type|id|ref_id|src\.(rack|gear|port)|meta\.[^.\s]+|data(\.[^.\s]+)*)$/;
export const fieldPath = z
  .string()
  .regex(FIELD_PATH, "expected a field path: type, id, ref_id, src.gear, meta.<key>, data or data.<a>.<b>");
/** A field a transform may write: the message's `type`, a `meta` key, or `data` and below. */
export const writablePath = z
  .string()
  .regex(
    /^(type|meta\.[^.\s]+|data(\.[^.\s]+)*)$/,
    "expected a writable field: type, meta.<key>, data or data.<a>.<b>",
  );
