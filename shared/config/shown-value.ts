import { redactUrl } from "../redact/url-credentials.ts";

/** Past this, an error quotes the start of a value and its length: a refusal need not repeat a megabyte. */
const QUOTE_MAX = 120;

/** A config value as it may be shown: every string in it (list items and table values too) with URL credentials masked. */
export function redactValue(value: unknown): unknown {
  if (typeof value === "string") return redactUrl(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, redactValue(item)]));
  return value;
}

/**
 * A value quoted for an error message: as JSON (so control characters come escaped), URL credentials masked,
 * and cut short past 120 characters.
 *
 * @example quoteValue("nats://u:pw@h") // '"nats://***@h"'
 */
export function quoteValue(value: unknown): string {
  // JSON has no Infinity or NaN (TOML's inf and nan), and would print them as null.
  const json =
    typeof value === "number" ? String(value) : (JSON.stringify(redactValue(value)) ?? String(value));
  return json.length <= QUOTE_MAX ? json : `${json.slice(0, QUOTE_MAX)}… (${json.length} characters)`;
}
