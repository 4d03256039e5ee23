import type { Context } from "hono";
import type { ScenarioProblem } from "../../../shared/scenario/index.ts";
import { ProblemError } from "./problem.ts";

/**
 * A YAML file sent as a request body (scenarios, specs): at most `maxBytes` (413 past it, declared or sent),
 * with the file name problems should carry from `x-fluxrig-file` (the CLI sends the file's own name).
 *
 * @example const { text, file } = await yamlBody(c, MAX_SPEC_BYTES, "a spec file", "spec.yaml");
 */
export async function yamlBody(
  c: Context,
  maxBytes: number,
  what: string,
  defaultFile: string,
): Promise<{ text: string; file: string }> {
  const declared = Number(c.req.header("content-length") ?? 0);
  const text = declared > maxBytes ? "" : await c.req.text();
  if (declared > maxBytes || new TextEncoder().encode(text).length > maxBytes) {
    throw new ProblemError({
      title: "Payload Too Large",
      status: 413,
      detail: `${what} may hold at most ${maxBytes} bytes`,
    });
  }
  return { text, file: c.req.header("x-fluxrig-file")?.slice(0, 200) || defaultFile };
}

/**
 * A 400 listing a file's problems: `detail` has the first 20 as `file:line:col path: message`, `problems`
 * all of them.
 *
 * @example throw invalidYaml("Invalid spec", result.problems);
 */
export function invalidYaml(title: string, problems: ScenarioProblem[]): ProblemError {
  return new ProblemError({
    title,
    status: 400,
    parameter: "body",
    detail: problems
      .slice(0, 20)
      .map((p) => `${p.file}:${p.line}:${p.col} ${p.path}: ${p.message}`)
      .join("\n"),
    problems,
  });
}
