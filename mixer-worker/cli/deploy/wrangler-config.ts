import { isAbsolute, join, relative } from "node:path";
import { parse, stringify } from "smol-toml";

/** The binding names of wrangler.toml the mixer Worker reads (mixer-worker/src/env.ts). */
const REGISTRY_BINDING = "REGISTRY";
const TELEMETRY_BINDING = "TELEMETRY";

/** What a deploy needs to know of the project's wrangler.toml. */
export interface WranglerResources {
  workerName: string;
  /** The D1 database behind the `REGISTRY` binding. */
  databaseName: string;
  /** The R2 bucket behind the `TELEMETRY` binding. */
  bucketName: string;
}

/** What a deploy writes into its copy of wrangler.toml. */
export interface DeployWranglerInput {
  /** The project root, against which wrangler.toml's paths are written. */
  root: string;
  /** The directory the copy is written to; its paths are made relative to it (wrangler resolves them so). */
  dir: string;
  /** The D1 database's id; absent in a dry run, where the project's placeholder stays. */
  databaseId?: string;
  databaseName: string;
  bucketName: string;
  /** Plain variables of the Worker (never secrets: they show in the dashboard). */
  vars: Record<string, string>;
}

type Table = Record<string, unknown>;

function tables(config: Table, key: string, file: string): Table[] {
  const value = config[key];
  if (!Array.isArray(value)) throw new Error(`${file}: [[${key}]] is missing`);
  return value as Table[];
}

function binding(list: Table[], key: string, name: string, file: string): Table {
  const found = list.find((entry) => entry.binding === name);
  if (!found) throw new Error(`${file}: no [[${key}]] with binding = "${name}"`);
  return found;
}

/**
 * The Worker name, D1 database and R2 bucket that the project's wrangler.toml names.
 *
 * @example wranglerResources(await readFile("wrangler.toml", "utf8")).databaseName // "fluxrig-registry"
 */
export function wranglerResources(text: string, file = "wrangler.toml"): WranglerResources {
  const config = parse(text) as Table;
  const d1 = binding(tables(config, "d1_databases", file), "d1_databases", REGISTRY_BINDING, file);
  const r2 = binding(tables(config, "r2_buckets", file), "r2_buckets", TELEMETRY_BINDING, file);
  return {
    workerName: String(config.name),
    databaseName: String(d1.database_name),
    bucketName: String(r2.bucket_name),
  };
}

/**
 * The wrangler.toml a deploy runs with: the project's, with the D1 database's id and name, the R2 bucket,
 * the Worker's plain variables (the mixer's config text), and its paths (`main`, `migrations_dir`) made
 * relative to `dir`, where the copy is written. The project's own file is never changed.
 *
 * @example deployWranglerConfig(text, { root, dir: ".wrangler/deploy", databaseId, databaseName, bucketName, vars })
 */
export function deployWranglerConfig(text: string, input: DeployWranglerInput): string {
  const config = parse(text) as Table;
  const move = (path: unknown) => {
    const absolute = isAbsolute(String(path)) ? String(path) : join(input.root, String(path));
    return relative(input.dir, absolute);
  };
  config.main = move(config.main);
  const d1 = binding(tables(config, "d1_databases", "wrangler.toml"), "d1_databases", REGISTRY_BINDING, "");
  d1.database_name = input.databaseName;
  if (input.databaseId) d1.database_id = input.databaseId;
  if (d1.migrations_dir !== undefined) d1.migrations_dir = move(d1.migrations_dir);
  binding(tables(config, "r2_buckets", "wrangler.toml"), "r2_buckets", TELEMETRY_BINDING, "").bucket_name =
    input.bucketName;
  config.vars = { ...((config.vars as Table | undefined) ?? {}), ...input.vars };
  return `# Written by fluxrig-mixer deploy from wrangler.toml; edit that file, not this one.\n${stringify(config)}\n`;
}
