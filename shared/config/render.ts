import type { ConfigEntry } from "./load.ts";
import { describeSource } from "./provenance.ts";
import { looksSecret, MASK } from "./secrets.ts";
import { redactValue } from "./shown-value.ts";
import { setAtKey } from "./tree.ts";

/**
 * What `config show` and `GET /api/v1/config` print for a value: secret leaves and credential-named map
 * entries masked, a value filled from `${VAR}` as written, and URL credentials (userinfo, query) masked in
 * every string.
 */
export function maskEntry(entry: ConfigEntry): unknown {
  if (entry.secret) return entry.value === undefined ? undefined : MASK;
  const shown = entry.written ?? entry.value;
  if (shown && typeof shown === "object" && !Array.isArray(shown)) {
    return redactValue(
      Object.fromEntries(
        Object.entries(shown).map(([name, value]) => [name, looksSecret(name) ? MASK : value]),
      ),
    );
  }
  return redactValue(shown);
}

function tomlValue(value: unknown): string {
  if (value === undefined) return "(unset)";
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const pairs = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)} = ${JSON.stringify(v)}`);
    return pairs.length ? `{ ${pairs.join(", ")} }` : "{}";
  }
  return JSON.stringify(value);
}

/** The effective config as TOML-style sections, secrets masked. */
export function renderConfigToml(entries: ConfigEntry[]): string {
  const out: string[] = [];
  let section = "";
  for (const entry of entries) {
    const dot = entry.key.lastIndexOf(".");
    const table = entry.key.slice(0, dot);
    if (table !== section) {
      if (out.length) out.push("");
      out.push(`[${table}]`);
      section = table;
    }
    out.push(`${entry.key.slice(dot + 1)} = ${tomlValue(maskEntry(entry))}`);
  }
  return `${out.join("\n")}\n`;
}

/** One row per value: key, effective value and where it came from, in aligned columns. */
export function renderConfigSources(entries: ConfigEntry[]): string {
  const rows = entries.map((e) => [e.key, tomlValue(maskEntry(e)), describeSource(e.source)] as const);
  const header = ["KEY", "VALUE", "SOURCE"] as const;
  const width = (i: 0 | 1) => Math.min(60, Math.max(header[i].length, ...rows.map((r) => r[i].length)));
  const [w0, w1] = [width(0), width(1)];
  const line = (r: readonly [string, string, string]) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`;
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/** JSON for scripts: the nested config, or with sources, one object per value. */
export function renderConfigJson(entries: ConfigEntry[], withSources: boolean): string {
  if (withSources) {
    return `${JSON.stringify(
      entries.map((e) => ({ key: e.key, value: maskEntry(e) ?? null, source: describeSource(e.source) })),
      null,
      2,
    )}\n`;
  }
  const tree: Record<string, unknown> = {};
  for (const entry of entries) setAtKey(tree, entry.key, maskEntry(entry) ?? null);
  return `${JSON.stringify(tree, null, 2)}\n`;
}
