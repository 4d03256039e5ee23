import type { ConfigLeaf, LeafKind } from "./schema-walk.ts";

export const ENV_PREFIX = "FLUXRIG_";

/**
 * Variables with the prefix that are not keys: the config path, the documented overrides and the CLI's API
 * client settings. They are never reported as unknown.
 */
export const RESERVED_ENV = new Set([
  "FLUXRIG_CONFIG",
  "FLUXRIG_TRACE",
  "FLUXRIG_DEBUG",
  "FLUXRIG_DISABLE_TELEMETRY",
  "FLUXRIG_API_TOKEN",
  "FLUXRIG_API_URL",
]);

/** `rack.max_hops` → `FLUXRIG_RACK_MAX_HOPS`. */
export function envVarName(key: string): string {
  return ENV_PREFIX + key.replaceAll(".", "_").toUpperCase();
}

/**
 * Maps each env var name to the leaf it sets, derived by walking the schema (never by guessing where the
 * underscores were dots). Two keys folding onto one name is a schema bug, reported at once.
 */
export function buildEnvMap(leaves: ConfigLeaf[]): Map<string, ConfigLeaf> {
  const map = new Map<string, ConfigLeaf>();
  for (const leaf of leaves) {
    const name = envVarName(leaf.key);
    const clash = map.get(name);
    if (clash) throw new Error(`config schema bug: ${clash.key} and ${leaf.key} both map to ${name}`);
    map.set(name, leaf);
  }
  return map;
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/** Parses a boolean written in an env var or flag; undefined when it is not one. */
export function parseBoolean(text: string): boolean | undefined {
  const lower = text.trim().toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  return undefined;
}

/**
 * Turns the text of an env var or flag into the value a leaf expects. Errors say what was expected and never
 * quote the text, so the caller adds the key, the source and the value (masked where it must be).
 */
export function coerceText(
  kind: LeafKind,
  text: string,
): { ok: true; value: unknown } | { ok: false; error: string } {
  switch (kind) {
    case "int":
      return /^[+-]?\d+$/.test(text.trim())
        ? { ok: true, value: Number(text) }
        : { ok: false, error: "expected a whole number" };
    case "number": {
      const n = Number(text);
      return text.trim() !== "" && Number.isFinite(n)
        ? { ok: true, value: n }
        : { ok: false, error: "expected a number" };
    }
    case "boolean": {
      const b = parseBoolean(text);
      return b === undefined ? { ok: false, error: "expected true or false" } : { ok: true, value: b };
    }
    case "size":
      return { ok: true, value: /^\d+$/.test(text.trim()) ? Number(text) : text };
    case "list": {
      if (text.trim().startsWith("[")) {
        try {
          const parsed: unknown = JSON.parse(text);
          if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string"))
            return { ok: true, value: parsed };
        } catch {}
        return { ok: false, error: "expected a JSON array of strings or a comma-separated list" };
      }
      return {
        ok: true,
        value: text
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      };
    }
    case "map": {
      if (text.trim().startsWith("{")) {
        try {
          const parsed: unknown = JSON.parse(text);
          if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
            return { ok: true, value: parsed };
        } catch {}
        return { ok: false, error: "expected a JSON object or name=value pairs separated by commas" };
      }
      const entries: [string, string][] = [];
      for (const pair of text.split(",").filter((s) => s.trim() !== "")) {
        const eq = pair.indexOf("=");
        if (eq <= 0) return { ok: false, error: "expected name=value pairs separated by commas" };
        entries.push([pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()]);
      }
      return { ok: true, value: Object.fromEntries(entries) };
    }
    default:
      return { ok: true, value: text };
  }
}
