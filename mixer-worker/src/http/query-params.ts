import type { Context } from "hono";
import type { z } from "zod";
import type { ParameterProblem } from "../../../shared/telemetry/query-params.ts";
import { ProblemError } from "./problem.ts";

/** The most of a bad name or value a problem repeats: a 2000-character key is named, not echoed whole. */
const MAX_ECHO = 200;
const cut = (text: string) =>
  text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}… (${text.length} characters)` : text;

/**
 * A 400 problem naming the parameter, what was given and what is allowed (also as `value` and `allowed`).
 * A name or value longer than 200 characters is cut, saying how long it was.
 *
 * @example throw badParameter({ parameter: "level", value: "fatal", allowed: "one of debug, info, warn, error" });
 */
export function badParameter({ parameter, value, allowed }: ParameterProblem): ProblemError {
  const [name, shown] = [cut(parameter), cut(value)];
  return new ProblemError({
    title: "Bad Request",
    status: 400,
    parameter: name,
    value: shown,
    allowed,
    detail: `${name} must be ${allowed}; got "${shown}"`,
  });
}

/** Parameters outside a schema's fixed names that an endpoint reads itself (`promoted.<field>`). */
export interface OtherParameters {
  owns(name: string): boolean;
  /** How a 400 for an unknown parameter names them, e.g. "promoted.<field>". */
  shown: string;
}

/**
 * The request's query string parsed by a zod object schema whose fields carry `.describe(allowed)`. Each
 * parameter may appear once; an unknown one (a typo such as `levle`) is refused rather than ignored, unless
 * `others` owns it (the caller checks those).
 *
 * @example const query = parseQuery(c, logsQuerySchema);
 */
export function parseQuery<S extends z.ZodObject>(
  c: Context,
  schema: S,
  others?: OtherParameters,
): z.output<S> {
  const given: Record<string, string> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (others?.owns(name)) continue;
    const known = Object.hasOwn(schema.shape, name);
    if (!known || values.length > 1) {
      throw badParameter({
        parameter: name,
        value: values.join(", "),
        allowed: known
          ? "given once"
          : `one of the parameters this endpoint takes: ${[...Object.keys(schema.shape), ...(others ? [others.shown] : [])].join(", ")}`,
      });
    }
    given[name] = values[0] as string;
  }
  const parsed = schema.safeParse(given);
  if (parsed.success) return parsed.data;
  const name = String(parsed.error.issues[0]?.path[0] ?? "");
  const field = schema.shape[name] as z.ZodType | undefined;
  throw badParameter({ parameter: name, value: given[name] ?? "", allowed: field?.description ?? "valid" });
}

/**
 * A path parameter checked by a described zod schema; a bad one is a 400 naming it.
 *
 * @example const traceId = pathParam(c, "trace_id", traceIdSchema);
 */
export function pathParam<T>(c: Context, name: string, schema: z.ZodType<T>): T {
  const value = c.req.param(name) ?? "";
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw badParameter({ parameter: name, value, allowed: schema.description ?? "valid" });
}
