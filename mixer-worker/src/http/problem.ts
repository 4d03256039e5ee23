import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** An RFC 9457 problem document; every error the API returns has this shape. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  /** The request parameter at fault, when there is one. */
  parameter?: string;
  [extension: string]: unknown;
}

/** Thrown by handlers and middleware; the app's error handler renders it as problem+json. */
export class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail ?? problem.title);
  }
}

/** Renders a problem as `application/problem+json`. */
export function problemResponse(
  c: Context,
  problem: Problem,
  headers: Record<string, string> = {},
): Response {
  return c.body(JSON.stringify({ type: "about:blank", ...problem }), problem.status as ContentfulStatusCode, {
    "content-type": "application/problem+json",
    ...headers,
  });
}
