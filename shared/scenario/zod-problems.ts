import type { z } from "zod";
import type { DocPath, ScenarioProblem } from "./scenario-error.ts";
import type { YamlSource } from "./yaml-source.ts";

function describe(input: unknown): string {
  if (input === undefined) return "nothing";
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a map";
  if (typeof input === "string") return `"${input.length > 40 ? `${input.slice(0, 40)}…` : input}"`;
  return String(input);
}

/** Messages that say what was expected and what was found, in the words of a YAML author. */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === "invalid_type") {
    const expected = issue.expected === "record" || issue.expected === "object" ? "map" : issue.expected;
    return issue.input === undefined
      ? `missing (expected ${article(expected)})`
      : `expected ${article(expected)}, got ${describe(issue.input)}`;
  }
  if (issue.code === "invalid_union" && issue.input === undefined) return "missing";
  if (issue.code === "invalid_value") {
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describe(issue.input)}`;
  }
  return undefined;
};

function article(word: string): string {
  return `${/^[aeiou]/.test(word) ? "an" : "a"} ${word}`;
}

/**
 * Parses `value` with `schema`; on failure, every issue becomes a problem at its place in the file
 * (unknown keys at the key itself).
 *
 * @example const gear = parseAt(source, ["gears", 2], listedGearSchema, raw, problems);
 */
export function parseAt<S extends z.ZodType>(
  source: YamlSource,
  base: DocPath,
  schema: S,
  value: unknown,
  problems: ScenarioProblem[],
): z.output<S> | undefined {
  const parsed = schema.safeParse(value, { error: errorMap });
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const path = [...base, ...(issue.path as (string | number)[])];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) problems.push(source.problem([...path, key], "unknown key", "key"));
    } else if (issue.code === "invalid_key") {
      problems.push(source.problem(path, `bad name: ${issue.issues[0]?.message ?? issue.message}`, "key"));
    } else {
      problems.push(source.problem(path, issue.message));
    }
  }
  return undefined;
}
