import * as z from "zod";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

const EXPECTED = 'expected a duration such as "100ms", "15s" or "1h" (units ms, s, m, h, d)';

/**
 * Parses a Go-style duration ("100ms", "15s", "1h30m", "720h") into milliseconds.
 * Returns an error message instead of throwing, so callers can collect every problem at once. The message
 * does not quote the text: it may come from a `${VAR}`, and callers know how to show it.
 *
 * @example parseDuration("1h30m") // { ok: true, ms: 5_400_000 }
 */
export function parseDuration(text: string): { ok: true; ms: number } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, error: EXPECTED };
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const m = PART.exec(trimmed);
    if (!m) return { ok: false, error: EXPECTED };
    ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  // Thousands of digits overflow to Infinity; no caller can wait that long.
  if (!Number.isFinite(ms)) return { ok: false, error: `${EXPECTED}, of a length a clock can hold` };
  return { ok: true, ms: Math.round(ms) };
}

/** Formats milliseconds back into the shortest readable duration ("1h30m", "250ms"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return rest > 0 ? `${out}${rest}ms` : out;
}

/** A config field holding a duration string; parses to milliseconds. */
export const durationSchema = z
  .string()
  .transform((text, ctx) => {
    const parsed = parseDuration(text);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: parsed.error });
      return z.NEVER;
    }
    return parsed.ms;
  })
  .meta({ kind: "duration" });
