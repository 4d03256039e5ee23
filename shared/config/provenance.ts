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

/** Thrown when a config cannot be loaded; lists every problem, each naming its key and source. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  readonly warnings: string[];
  constructor(problems: ConfigProblem[], warnings: string[] = []) {
    const lines = [
      ...problems.map((p) => `  - ${describeProblem(p)}`),
      ...warnings.map((w) => `  warning: ${w}`),
    ];
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}`,
    );
    this.name = "ConfigError";
    this.problems = problems;
    this.warnings = warnings;
  }
}
