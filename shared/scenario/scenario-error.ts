/** A segment of a path into the scenario document: a map key or a list index. */
export type DocPath = readonly (string | number)[];

/** One problem in a scenario file, at a line and column (1-based) and a path such as `gears[2].config.rate`. */
export interface ScenarioProblem {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

/**
 * `gears[2].config.rate`: keys joined with dots, list indexes in brackets.
 *
 * @example formatDocPath(["gears", 2, "config", "rate"]) // "gears[2].config.rate"
 */
export function formatDocPath(path: DocPath): string {
  let out = "";
  for (const segment of path)
    out += typeof segment === "number" ? `[${segment}]` : out === "" ? segment : `.${segment}`;
  return out || "(document)";
}

/**
 * `scenario.yaml:14:5 gears[2].config.rate: expected a number`
 *
 * @example problems.map(formatProblem).join("\n")
 */
export function formatProblem(problem: ScenarioProblem): string {
  return `${problem.file}:${problem.line}:${problem.col} ${problem.path}: ${problem.message}`;
}
