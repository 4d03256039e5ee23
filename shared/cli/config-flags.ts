import type { FlagValue } from "../config/load.ts";

/** A CLI flag that sets a config key; the top precedence layer. */
export interface ConfigFlag {
  /** Commander syntax, e.g. `--level <level>`. */
  syntax: string;
  key: string;
  description: string;
}

/** The name commander gives a flag's value: `--state-dir <dir>` → `stateDir`. */
export function optionName(syntax: string): string {
  const long = syntax.split(/[ ,]+/).find((part) => part.startsWith("--")) ?? syntax;
  return long.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Turns parsed options into the flag layer, citing each flag as the user typed it. */
export function flagValues(table: readonly ConfigFlag[], options: Record<string, unknown>): FlagValue[] {
  const out: FlagValue[] = [];
  for (const flag of table) {
    const value = options[optionName(flag.syntax)];
    if (value !== undefined) out.push({ key: flag.key, flag: flag.syntax.split(" ")[0] as string, value });
  }
  return out;
}

/** Flags both binaries take (the reference's `--level`). */
export const COMMON_CONFIG_FLAGS: readonly ConfigFlag[] = [
  { syntax: "--level <level>", key: "logging.level", description: "log verbosity: debug, info, warn, error" },
];
