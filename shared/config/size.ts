import * as z from "zod";

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1_024,
  mib: 1_048_576,
  gib: 1_073_741_824,
};
const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/**
 * Parses a byte size: a whole number of bytes, or a number with a unit (B, KB, MB, GB, KiB, MiB, GiB). Like
 * parseDuration's, the error does not quote the input.
 *
 * @example parseSize("2MiB") // { ok: true, bytes: 2097152 }
 */
export function parseSize(
  input: number | string,
): { ok: true; bytes: number } | { ok: false; error: string } {
  const expected = 'expected a byte count such as 2097152 or a size such as "2MiB" or "512KB"';
  if (typeof input === "number") {
    return Number.isInteger(input) && input >= 0
      ? { ok: true, bytes: input }
      : { ok: false, error: expected };
  }
  const m = SIZE.exec(input.trim());
  const unit = UNITS[(m?.[2] || "b").toLowerCase()];
  if (!m || unit === undefined) return { ok: false, error: expected };
  const bytes = Math.round(Number(m[1]) * unit);
  // Thousands of digits overflow to Infinity, which no bound check can compare.
  return Number.isFinite(bytes) ? { ok: true, bytes } : { ok: false, error: expected };
}

/** A config field holding a byte size; parses to a number of bytes. */
export const sizeSchema = z
  .union([z.number(), z.string()])
  .transform((value, ctx) => {
    const parsed = parseSize(value);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: parsed.error });
      return z.NEVER;
    }
    return parsed.bytes;
  })
  .meta({ kind: "size" });
