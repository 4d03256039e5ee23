import { redactUrls } from "../redact/url-credentials.ts";

/** Where a loaded config value came from. Every effective value carries one. */
export type Source =
  | { kind: "default" }
  | { kind: "file"; file: string; line: number }
  | { kind: "env"; name: string }
  | { kind: "flag"; flag: string };

/** Renders a source the way errors and `config show --sources` print it. */
export function describeSource(source: Source): string {
  switch (source.kind) {
    case "default":
      return "default";
    case "file":
      return `${source.file}:${source.line}`;
    case "env":
      return `env ${source.name}`;
    case "flag":
      return `flag ${source.flag}`;
  }
}

/** One problem found while loading; the loader gathers them all before failing. */
export interface ConfigProblem {
  key?: string;
  source?: Source;
  message: string;
}

function describeProblem(p: ConfigProblem): string {
  const where = p.source && p.source.kind !== "default" ? `${describeSource(p.source)}: ` : "";
  return `${where}${p.message}`;
}

/** Past this, a line of the error is cut: a key or path given by the input could be a megabyte long. */
const LINE_MAX = 1_000;
/** C0, DEL and C1 controls, and the bidi overrides that make a terminal show text other than it holds. */
const UNPRINTABLE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

/**
 * One line of an error as it may reach a terminal or a log: URL credentials masked, control characters
 * escaped (no escape sequences, no forged lines), cut past 1000 characters.
 */
function printable(text: string): string {
  const escaped = redactUrls(text).replace(
    UNPRINTABLE,
    (c) => `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, "0")}`,
  );
  return escaped.length <= LINE_MAX ? escaped : `${escaped.slice(0, LINE_MAX)}… (cut)`;
}

/**
 * Thrown when a config cannot be loaded; lists every problem, each naming its key and source. The message is
 * safe to print: whatever the input held, it carries no URL credentials and no control characters.
 */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  readonly warnings: string[];
  constructor(problems: ConfigProblem[], warnings: string[] = [], options?: ErrorOptions) {
    const lines = [
      ...problems.map((p) => `  - ${printable(describeProblem(p))}`),
      ...warnings.map((w) => `  warning: ${printable(w)}`),
    ];
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}`,
      options,
    );
    this.name = "ConfigError";
    this.problems = problems;
    this.warnings = warnings;
  }
}
