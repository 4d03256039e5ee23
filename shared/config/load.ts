import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { buildEnvMap, coerceText, ENV_PREFIX, envVarName, parseBoolean, RESERVED_ENV } from "./env-map.ts";
import { ConfigError, type ConfigProblem, type Source } from "./provenance.ts";
import { type ConfigLeaf, configLeaves, configSections } from "./schema-walk.ts";
import { expandReferences, isPureReference, looksSecret } from "./secrets.ts";
import { closest } from "./suggest.ts";
import { locateTomlKeys } from "./toml-locate.ts";
import { setAtKey } from "./tree.ts";

/** A value given on the command line, already mapped to its config key. */
export interface FlagValue {
  key: string;
  flag: string;
  value: unknown;
}

export interface ConfigInput {
  /** The TOML file, when one was found; `path` is what errors cite. */
  file?: { path: string; text: string };
  env?: Record<string, string | undefined>;
  flags?: FlagValue[];
}

/** One effective value and where it came from. */
export interface ConfigEntry {
  key: string;
  value: unknown;
  source: Source;
  secret: boolean;
  /** For a map: the entries whose values came from credential-named `${VAR}`s, masked when shown. */
  secretEntries?: string[];
}

export interface LoadedConfig<T> {
  config: T;
  /** Every leaf, in schema order, with its effective (unparsed) value and provenance. */
  entries: ConfigEntry[];
  /** Things that did not stop loading but that an operator should see (e.g. an unknown FLUXRIG_ variable). */
  warnings: string[];
}

type Layer = Map<string, { value: unknown; source: Source }>;

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function describeValue(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

/**
 * Loads a config from defaults, a TOML file, the environment and CLI flags (lowest to highest precedence),
 * validates it against `schema`, and returns the typed config with the provenance of every value.
 * All problems are gathered and thrown together as a {@link ConfigError}.
 *
 * @example
 * const { config, entries } = loadConfig(rackConfigSchema, { env: process.env, flags: [] });
 */
export function loadConfig<S extends z.ZodObject>(schema: S, input: ConfigInput): LoadedConfig<z.infer<S>> {
  const leaves = configLeaves(schema);
  const byKey = new Map(leaves.map((leaf) => [leaf.key, leaf]));
  const sections = new Set(configSections(schema));
  const env = input.env ?? {};
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];

  const merged: Layer = new Map();
  for (const leaf of leaves) merged.set(leaf.key, { value: leaf.default, source: { kind: "default" } });

  const fileSensitive = new Set<string>();
  if (input.file)
    readFileLayer(input.file, { byKey, sections, leaves, env, problems, merged, sensitive: fileSensitive });
  readEnvLayer(env, leaves, problems, warnings, merged);
  for (const flag of input.flags ?? []) {
    const leaf = byKey.get(flag.key);
    if (!leaf) throw new Error(`flag ${flag.flag} maps to unknown config key ${flag.key}`);
    const source: Source = { kind: "flag", flag: flag.flag };
    if (typeof flag.value === "string") {
      const coerced = coerceText(leaf.kind, flag.value);
      if (!coerced.ok) problems.push({ key: leaf.key, source, message: `${flag.flag}: ${coerced.error}` });
      else merged.set(leaf.key, { value: coerced.value, source });
    } else merged.set(leaf.key, { value: flag.value, source });
  }
  applyOverrides(env, byKey, problems, merged);

  const tree: Record<string, unknown> = {};
  for (const [key, { value }] of merged) {
    if (value !== undefined) setAtKey(tree, key, value);
  }
  const parsed = schema.safeParse(tree);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = findLeafKey(issue.path.map(String), byKey);
      const entry = key ? merged.get(key) : undefined;
      const leaf = key ? byKey.get(key) : undefined;
      const expectation = leaf ? explain(leaf, issue) : issue.message;
      // A parse error (duration, size) already quotes what it was given.
      const got =
        issue.code === "custom" && issue.message.includes(", got ")
          ? ""
          : `, got ${describeValue(entry?.value)}`;
      problems.push({
        key: key ?? issue.path.join("."),
        ...(entry ? { source: entry.source } : {}),
        message: `${key ?? issue.path.join(".")}: ${expectation}${got}`,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, warnings);

  const entries = leaves.map((leaf) => {
    const { value, source } = merged.get(leaf.key) as { value: unknown; source: Source };
    const secretEntries = [...fileSensitive]
      .filter((k) => k.startsWith(`${leaf.key}.`))
      .map((k) => k.slice(leaf.key.length + 1));
    return {
      key: leaf.key,
      value,
      source,
      secret: leaf.secret || fileSensitive.has(leaf.key),
      ...(secretEntries.length ? { secretEntries } : {}),
    };
  });
  return { config: parsed.data as z.infer<S>, entries, warnings };
}

function findLeafKey(path: string[], byKey: Map<string, ConfigLeaf>): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const key = path.slice(0, n).join(".");
    if (byKey.has(key)) return key;
  }
  return undefined;
}

const EXPECTED: Record<ConfigLeaf["kind"], string> = {
  string: "expected a string",
  int: "expected a whole number",
  number: "expected a number",
  boolean: "expected true or false",
  enum: "expected one of",
  list: "expected a list of strings",
  map: "expected a table of string values",
  duration: 'expected a duration such as "100ms", "15s" or "1h"',
  size: 'expected a byte count such as 2097152 or a size such as "2MiB"',
};

function explain(leaf: ConfigLeaf, issue: z.core.$ZodIssue): string {
  if (issue.code === "custom") return issue.message;
  if (leaf.kind === "enum") return `expected one of ${leaf.values?.join(", ")}`;
  if (issue.code === "too_small" || issue.code === "too_big") {
    const bound = issue.code === "too_small" ? "at least" : "at most";
    const what = leaf.kind === "list" ? "entries" : "";
    return `${EXPECTED[leaf.kind]} ${bound} ${String(issue.code === "too_small" ? issue.minimum : issue.maximum)}${what ? ` ${what}` : ""}`;
  }
  if (issue.code === "invalid_type" && leaf.kind === "int" && issue.expected === "int") return EXPECTED.int;
  return EXPECTED[leaf.kind];
}

interface FileContext {
  byKey: Map<string, ConfigLeaf>;
  sections: Set<string>;
  leaves: ConfigLeaf[];
  env: Record<string, string | undefined>;
  problems: ConfigProblem[];
  merged: Layer;
  /** Keys (or map entries, `key.name`) whose value came from a credential-named `${VAR}`. */
  sensitive: Set<string>;
}

function readFileLayer(file: { path: string; text: string }, ctx: FileContext): void {
  let document: Record<string, unknown>;
  try {
    document = parseToml(file.text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      const firstLine = error.message.split("\n")[0] ?? error.message;
      ctx.problems.push({
        message: `${file.path}:${error.line}:${error.column}: not valid TOML: ${firstLine.replace(/^Invalid TOML document: /, "")}`,
      });
      return;
    }
    throw error;
  }
  const lines = locateTomlKeys(file.text);
  const sourceOf = (key: string): Source => ({ kind: "file", file: file.path, line: lines.get(key) ?? 1 });

  const expand = (key: string, value: string): string => {
    const { value: out, missing, names } = expandReferences(value, ctx.env);
    // A value filled from a credential-named variable is masked wherever it is shown.
    if (names.some(looksSecret)) ctx.sensitive.add(key);
    for (const name of missing) {
      ctx.problems.push({
        key,
        source: sourceOf(key),
        message: `${key} refers to \${${name}}, which is not set in the environment`,
      });
    }
    return out;
  };

  const walk = (table: Record<string, unknown>, prefix: string) => {
    for (const [name, value] of Object.entries(table)) {
      const key = prefix ? `${prefix}.${name}` : name;
      const source = sourceOf(key);
      if (ctx.sections.has(key)) {
        if (isTable(value)) walk(value, key);
        else
          ctx.problems.push({
            key,
            source,
            message: `${key} is a table: write it as [${key}] with keys under it`,
          });
        continue;
      }
      const leaf = ctx.byKey.get(key);
      if (!leaf) {
        ctx.problems.push({ key, source, message: unknownKeyMessage(key, name, prefix, ctx) });
        continue;
      }
      if (leaf.secret && !isPureReference(value)) {
        ctx.problems.push({
          key,
          source,
          message: `${key} is a secret and must not be stored in a TOML file: set ${envVarName(key)} in the environment instead`,
        });
        continue;
      }
      ctx.merged.set(key, { value: expandValue(leaf, key, value, ctx, source, expand), source });
    }
  };
  walk(document, "");
}

function expandValue(
  leaf: ConfigLeaf,
  key: string,
  value: unknown,
  ctx: FileContext,
  source: Source,
  expand: (key: string, value: string) => string,
): unknown {
  if (typeof value === "string") return expand(key, value);
  if (Array.isArray(value)) return value.map((item) => (typeof item === "string" ? expand(key, item) : item));
  if (leaf.kind === "map" && isTable(value)) {
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) {
      if (looksSecret(name) && !isPureReference(item)) {
        const suggested = name.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
        ctx.problems.push({
          key: `${key}.${name}`,
          source,
          message: `${key}.${name} holds a literal secret: write "\${${suggested}}" and set ${suggested} in the environment`,
        });
      }
      out[name] = typeof item === "string" ? expand(`${key}.${name}`, item) : item;
    }
    return out;
  }
  return value;
}

function unknownKeyMessage(key: string, name: string, prefix: string, ctx: FileContext): string {
  if (looksSecret(name)) {
    return `${key} looks like a secret and must not be stored in a TOML file: set ${envVarName(key)} in the environment instead`;
  }
  const siblings = [...ctx.byKey.keys(), ...ctx.sections]
    .filter(
      (k) =>
        k.startsWith(prefix ? `${prefix}.` : "") && !k.slice(prefix ? prefix.length + 1 : 0).includes("."),
    )
    .map((k) => k.split(".").pop() as string);
  const near = closest(name, siblings);
  const elsewhere = ctx.leaves.find((leaf) => leaf.path[leaf.path.length - 1] === name);
  const hint = near
    ? ` (did you mean ${prefix ? `${prefix}.` : ""}${near}?)`
    : elsewhere
      ? ` (did you mean ${elsewhere.key}?)`
      : prefix
        ? ` (keys of [${prefix}]: ${siblings.join(", ")})`
        : ` (sections: ${siblings.join(", ")})`;
  return `unknown key ${key}${hint}`;
}

function readEnvLayer(
  env: Record<string, string | undefined>,
  leaves: ConfigLeaf[],
  problems: ConfigProblem[],
  warnings: string[],
  merged: Layer,
): void {
  const envMap = buildEnvMap(leaves);
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || text === undefined) continue;
    const leaf = envMap.get(name);
    if (!leaf && RESERVED_ENV.has(name)) continue;
    if (!leaf) {
      const near = closest(name, envMap.keys());
      warnings.push(
        `${name} is not a setting and is ignored${near ? ` (did you mean ${near}, which sets ${envMap.get(near)?.key}?)` : ""}`,
      );
      continue;
    }
    const source: Source = { kind: "env", name };
    const coerced = coerceText(leaf.kind, text);
    if (!coerced.ok) problems.push({ key: leaf.key, source, message: `${leaf.key}: ${coerced.error}` });
    else merged.set(leaf.key, { value: coerced.value, source });
  }
}

/**
 * The reference's troubleshooting switches, applied above every layer: FLUXRIG_TRACE and FLUXRIG_DEBUG force
 * the log level (as do logging.trace / logging.debug where the schema has them), FLUXRIG_DISABLE_TELEMETRY
 * turns self-monitoring off.
 */
function applyOverrides(
  env: Record<string, string | undefined>,
  byKey: Map<string, ConfigLeaf>,
  problems: ConfigProblem[],
  merged: Layer,
): void {
  const envSwitch = (name: string): boolean => {
    const text = env[name];
    if (text === undefined || text === "") return false;
    const value = parseBoolean(text);
    if (value === undefined) {
      problems.push({
        source: { kind: "env", name },
        message: `${name}: expected true or false, got "${text}"`,
      });
      return false;
    }
    return value;
  };
  const envSource = (name: string): Source => ({ kind: "env", name });
  const fileSwitch = (key: string) => {
    const entry = byKey.has(key) ? merged.get(key) : undefined;
    return entry?.value === true ? entry.source : undefined;
  };
  const traceBy = envSwitch("FLUXRIG_TRACE") ? envSource("FLUXRIG_TRACE") : fileSwitch("logging.trace");
  const debugBy = envSwitch("FLUXRIG_DEBUG") ? envSource("FLUXRIG_DEBUG") : fileSwitch("logging.debug");
  if (traceBy) merged.set("logging.level", { value: "trace", source: traceBy });
  else if (debugBy) merged.set("logging.level", { value: "debug", source: debugBy });
  if (envSwitch("FLUXRIG_DISABLE_TELEMETRY") && byKey.has("observability.enabled")) {
    merged.set("observability.enabled", {
      value: false,
      source: { kind: "env", name: "FLUXRIG_DISABLE_TELEMETRY" },
    });
  }
}
