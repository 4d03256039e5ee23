import { z } from "zod";
import { durationSchema, parseDuration } from "./duration.ts";
import { sizeSchema } from "./size.ts";

/** Field builders so each section reads like the reference table it mirrors. */
export const str = (fallback: string, description?: string) =>
  z
    .string()
    .default(fallback)
    .meta(description ? { description } : {});
export const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.int().min(min).max(max).default(fallback);
export const num = (fallback: number, min = -Infinity, max = Infinity) =>
  z.number().min(min).max(max).default(fallback);
export const bool = (fallback: boolean) => z.boolean().default(fallback);
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
  z.enum(values).default(fallback as never);
/**
 * Durations are written as strings ("15s") and parse to milliseconds; the default goes through the parser
 * too. `min` keeps out values that would spin a loop or a timer (a "0s" flush interval).
 */
export const duration = (fallback: string, min = "0ms") => {
  const floor = (parseDuration(min) as { ms: number }).ms;
  return durationSchema
    .refine((ms) => ms >= floor, { message: `expected at least ${min}` })
    .meta({ kind: "duration" })
    .prefault(fallback);
};
/** Sizes are bytes, or strings with a unit ("2MiB"), between `min` and `max` bytes. */
export const size = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  sizeSchema
    .refine((bytes) => bytes >= min && bytes <= max, { message: `expected between ${min} and ${max} bytes` })
    .meta({ kind: "size" })
    .prefault(fallback);
export const port = (fallback: number) => z.int().min(1).max(65_535).default(fallback);
/** A value that must never live in TOML: it comes from the environment (or the passport) only. */
export const secret = (description: string) => z.string().optional().meta({ secret: true, description });
/** A section; its defaults are filled in by parsing an empty table. */
export const section = <T extends z.ZodRawShape>(shape: T) => z.object(shape).prefault({} as never);
