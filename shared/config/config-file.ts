import type { z } from "zod";
import { type ConfigInput, type FlagValue, type LoadedConfig, loadConfig } from "./load.ts";
import { ConfigError } from "./provenance.ts";

/** What distinguishes the rack's config from the mixer's: its schema and its file name. */
export interface ConfigSpec<S extends z.ZodObject> {
  schema: S;
  /** Looked for in the working directory when neither --config nor FLUXRIG_CONFIG names a file. */
  fileName: string;
}

/**
 * The file system as the loader needs it; injected so this module runs in workerd too. In Node:
 * `{ stat, readText: (path) => readFile(path, "utf8") }` from `node:fs/promises`.
 */
export interface ConfigFiles {
  /** Facts about a path without opening it: opening a FIFO blocks until a writer comes. */
  stat: (path: string) => Promise<{ isFile(): boolean; isDirectory(): boolean; size: number }>;
  /** Reads a file as UTF-8 text. */
  readText: (path: string) => Promise<string>;
}

export interface ConfigSources {
  /** The value of `--config`, if given. */
  configFlag?: string | undefined;
  env: Record<string, string | undefined>;
  flags: FlagValue[];
  files: ConfigFiles;
}

/** A config file is a page of settings; this is far more than any needs, and bounds what a typo can make us read. */
export const MAX_CONFIG_FILE_BYTES = 1_048_576;

/**
 * Finds the config file (`--config PATH`, else `FLUXRIG_CONFIG`, else the default name in the working
 * directory), reads it and loads the layered config. A file named explicitly must exist; the default one may
 * be absent, in which case defaults, environment and flags apply. Whichever it is, it must be a regular file
 * of at most 1 MiB: a directory, a device (`/dev/urandom`) or a FIFO is refused before it is opened.
 *
 * @example
 * await loadConfigFile(rackConfigSpec, { env: process.env, flags: [], files: { stat, readText } });
 */
export async function loadConfigFile<S extends z.ZodObject>(
  spec: ConfigSpec<S>,
  sources: ConfigSources,
): Promise<LoadedConfig<z.infer<S>> & { file?: string }> {
  const named = namedFile(sources, spec.fileName);
  const path = named?.path ?? spec.fileName;
  const text = await readConfigText(sources.files, path, named?.by);
  const input: ConfigInput = { env: sources.env, flags: sources.flags };
  if (text !== undefined) input.file = { path, text };
  const loaded = loadConfig(spec.schema, input);
  return text === undefined ? loaded : { ...loaded, file: path };
}

/** The file named by `--config` or FLUXRIG_CONFIG. Empty is a mistake (an unset shell variable), not "none". */
function namedFile(sources: ConfigSources, fileName: string): { path: string; by: string } | undefined {
  const named =
    sources.configFlag !== undefined
      ? { path: sources.configFlag, by: "--config" }
      : sources.env.FLUXRIG_CONFIG !== undefined
        ? { path: sources.env.FLUXRIG_CONFIG, by: "FLUXRIG_CONFIG" }
        : undefined;
  if (named?.path === "") {
    const instead = named.by === "--config" ? "leave --config out" : "unset FLUXRIG_CONFIG";
    throw new ConfigError([
      { message: `${named.by} is empty: name a TOML file, or ${instead} to read ./${fileName}` },
    ]);
  }
  return named;
}

/**
 * The text of the config file, or undefined when the default one is absent. `by` is what named the file
 * (`--config`, FLUXRIG_CONFIG), for the messages.
 */
async function readConfigText(
  files: ConfigFiles,
  path: string,
  by: string | undefined,
): Promise<string | undefined> {
  const named = by ? `${by} names ${path}` : path;
  const refuse = (why: string, cause?: unknown): never => {
    throw new ConfigError([{ message: `${named}, ${why}` }], [], cause === undefined ? undefined : { cause });
  };
  let stats: Awaited<ReturnType<ConfigFiles["stat"]>>;
  try {
    stats = await files.stat(path);
  } catch (error) {
    // A missing file is normal for the default name; anything else (permissions, a loop of links) is reported.
    if ((error as { code?: string }).code === "ENOENT")
      return by ? refuse("which does not exist", error) : undefined;
    return refuse(`which cannot be read: ${(error as Error).message}`, error);
  }
  if (stats.isDirectory()) return refuse("which is a directory: name a TOML file");
  if (!stats.isFile())
    return refuse("which is not a regular file (a device, pipe or socket): name a TOML file");
  if (stats.size > MAX_CONFIG_FILE_BYTES) return refuse(tooLarge(stats.size));
  let text: string;
  try {
    text = await files.readText(path);
  } catch (error) {
    return refuse(`which cannot be read: ${(error as Error).message}`, error);
  }
  // The file may have grown since stat; a character is at least a byte.
  return text.length > MAX_CONFIG_FILE_BYTES ? refuse(tooLarge(text.length)) : text;
}

function tooLarge(bytes: number): string {
  return `which holds ${bytes} bytes: a config file may hold at most ${MAX_CONFIG_FILE_BYTES} (1 MiB)`;
}
