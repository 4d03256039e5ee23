import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { buildEnvMap, coerceText, ENV_PREFIX, envVarName, parseBoolean, RESERVED_ENV } from "./env-map.ts";
import { ConfigError, type ConfigProblem, type Source } from "./provenance.ts";
import { type ConfigLeaf, configLeaves, configSections } from "./schema-walk.ts";
import {
  expandReferences,
  isPureReference,
  looksSecret,
  refersToCredential,
  refersToEnvironment,
} from "./secrets.ts";
import { quoteValue } from "./shown-value.ts";
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
  /** A secret leaf, or a value filled from a credential-named `${VAR}`: masked when shown, sealed by a rack. */
  secret: boolean;
  /**
   * The value as the file wrote it, when it refers to the environment (`"${DB_PASSWORD}"`): errors and
   * `config show` print this, never the expansion, as a variable may hold a credential whatever its name.
   */
  written?: unknown;
}

export interface LoadedConfig<T> {
  config: T;
  /** Every leaf, in schema order, with its effective (unparsed) value and provenance. */
  entries: ConfigEntry[];
  /** Things that did not stop loading but that an operator should see (e.g. an unknown FLUXRIG_ variable). */
  warnings: string[];
}

/** A value in the making; `written` and `secret` as in {@link ConfigEntry}. */
interface LayerValue {
  value: unknown;
  source: Source;
  written?: unknown;
  secret?: boolean;
}
type Layer = Map<string, LayerValue>;

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
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

  if (input.file) readFileLayer(input.file, { byKey, sections, leaves, env, problems, merged });
  readEnvLayer(env, leaves, problems, warnings, merged);
  for (const flag of input.flags ?? []) {
    const leaf = byKey.get(flag.key);
    if (!leaf) throw new Error(`flag ${flag.flag} maps to unknown config key ${flag.key}`);
    const source: Source = { kind: "flag", flag: flag.flag };
    if (typeof flag.value === "string") {
      const coerced = coerceText(leaf.kind, flag.value);
      if (!coerced.ok) problems.push(coercionProblem(leaf, source, coerced.error, flag.value));
      else merged.set(leaf.key, { value: coerced.value, source });
    } else merged.set(leaf.key, { value: flag.value, source });
  }
  applyOverrides(env, byKey, problems, merged);

  const tree: Record<string, unknown> = {};
  for (const [key, { value }] of merged) {
    if (value !== undefined) setAtKey(tree, key, value);
  }
  const parsed = schema.safeParse(tree);
  if (!parsed.success) problems.push(...schemaProblems(parsed.error.issues, byKey, merged));
  if (problems.length > 0) throw new ConfigError(problems, warnings);

  const entries = leaves.map((leaf): ConfigEntry => {
    const { value, source, written, secret } = merged.get(leaf.key) as LayerValue;
    return {
      key: leaf.key,
      value,
      source,
      secret: leaf.secret || secret === true,
      ...(written !== undefined ? { written } : {}),
    };
  });
  return { config: parsed.data as z.infer<S>, entries, warnings };
}

/**
 * One problem per key, with every expectation it missed and the value it got: as written when it came from a
 * `${VAR}`, URL credentials masked.
 */
function schemaProblems(
  issues: z.core.$ZodIssue[],
  byKey: Map<string, ConfigLeaf>,
  merged: Layer,
): ConfigProblem[] {
  const expectations = new Map<string, string[]>();
  for (const issue of issues) {
    const key = findLeafKey(issue.path.map(String), byKey) ?? issue.path.join(".");
    const leaf = byKey.get(key);
    const expected = leaf ? explain(leaf, issue) : issue.message;
    const list = expectations.get(key) ?? [];
    if (!list.includes(expected)) list.push(expected);
    expectations.set(key, list);
  }
  return [...expectations].map(([key, expected]) => {
    const entry = merged.get(key);
    const got = entry && !byKey.get(key)?.secret ? `, got ${quoteValue(entry.written ?? entry.value)}` : "";
    return {
      key,
      ...(entry ? { source: entry.source } : {}),
      message: `${key}: ${expected.join("; ")}${got}`,
    };
  });
}

/** Kinds whose values a string can spell: what env vars, flags and `${VAR}`s are turned into. */
const COERCED_FROM_TEXT = new Set<ConfigLeaf["kind"]>(["int", "number", "boolean", "list", "map"]);

/** A value from the environment, a flag or a `${VAR}` that is not of the leaf's kind; `shown` is what to quote. */
function coercionProblem(leaf: ConfigLeaf, source: Source, error: string, shown: unknown): ConfigProblem {
  return { key: leaf.key, source, message: `${leaf.key}: ${error}, got ${quoteValue(shown)}` };
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
  url: "expected a URL",
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
    const { value: out, missing } = expandReferences(value, ctx.env);
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
      if (!refersToEnvironment(value)) {
        ctx.merged.set(key, { value: expandValue(leaf, key, value, ctx, source, expand), source });
        continue;
      }
      let expanded = expandValue(leaf, key, value, ctx, source, expand);
      // `port = "${PORT}"` reads the variable as FLUXRIG_SNAKE_PORT would be read: a string becomes the key's kind.
      if (typeof expanded === "string" && COERCED_FROM_TEXT.has(leaf.kind)) {
        const coerced = coerceText(leaf.kind, expanded);
        if (!coerced.ok) {
          ctx.problems.push(coercionProblem(leaf, source, coerced.error, value));
          continue;
        }
        expanded = coerced.value;
      }
      ctx.merged.set(key, { value: expanded, source, written: value, secret: refersToCredential(value) });
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
    if (!coerced.ok) problems.push(coercionProblem(leaf, source, coerced.error, text));
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
        message: `${name}: expected true or false, got ${quoteValue(text)}`,
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
