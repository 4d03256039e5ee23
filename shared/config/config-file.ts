import type { z } from "zod";
import { type ConfigInput, type FlagValue, type LoadedConfig, loadConfig } from "./load.ts";
import { ConfigError } from "./provenance.ts";

/** What distinguishes the rack's config from the mixer's: its schema and its file name. */
export interface ConfigSpec<S extends z.ZodObject> {
  schema: S;
  /** Looked for in the working directory when neither --config nor FLUXRIG_CONFIG names a file. */
  fileName: string;
}

export interface ConfigSources {
  /** The value of `--config`, if given. */
  configFlag?: string | undefined;
  env: Record<string, string | undefined>;
  flags: FlagValue[];
  /** Reads a file as text (e.g. `fs.readFile(path, "utf8")`); injected so this module runs in workerd too. */
  readText: (path: string) => Promise<string>;
}

/**
 * Finds the config file (`--config PATH`, else `FLUXRIG_CONFIG`, else the default name in the working
 * directory), reads it and loads the layered config. A file named explicitly must exist; the default one may
 * be absent, in which case defaults, environment and flags apply.
 *
 * @example
 * await loadConfigFile(rackConfigSpec, { env: process.env, flags: [], readText });
 */
export async function loadConfigFile<S extends z.ZodObject>(
  spec: ConfigSpec<S>,
  sources: ConfigSources,
): Promise<LoadedConfig<z.infer<S>> & { file?: string }> {
  const named = sources.configFlag
    ? { path: sources.configFlag, by: "--config" }
    : sources.env.FLUXRIG_CONFIG
      ? { path: sources.env.FLUXRIG_CONFIG, by: "FLUXRIG_CONFIG" }
      : undefined;
  const path = named?.path ?? spec.fileName;
  const text = await readIfExists(sources.readText, path);
  if (text === undefined && named) {
    throw new ConfigError([{ message: `${named.by} names ${path}, which does not exist or cannot be read` }]);
  }
  const input: ConfigInput = { env: sources.env, flags: sources.flags };
  if (text !== undefined) input.file = { path, text };
  const loaded = loadConfig(spec.schema, input);
  return text === undefined ? loaded : { ...loaded, file: path };
}

async function readIfExists(
  readText: (path: string) => Promise<string>,
  path: string,
): Promise<string | undefined> {
  try {
    return await readText(path);
  } catch (error) {
    // A missing file is normal for the default name; anything else (permissions, a directory) is reported.
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw new ConfigError([{ message: `cannot read ${path}: ${(error as Error).message}` }]);
  }
}
