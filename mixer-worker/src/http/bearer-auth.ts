import type { MiddlewareHandler } from "hono";
import { constantTimeEqual } from "./constant-time.ts";
import { ProblemError } from "./problem.ts";

const CHALLENGE = { "WWW-Authenticate": 'Bearer realm="fluxrig-mixer"' };

/**
 * Requires `Authorization: Bearer <token>`, compared in constant time with the token `expected` returns.
 * With no token configured every request is refused: an open control plane is never the default.
 *
 * @example app.use("/api/*", bearerAuth((c) => mixerConfig(c.env).config.api.token));
 */
export function bearerAuth<E extends object>(
  expected: (c: Parameters<MiddlewareHandler<E>>[0]) => string | undefined,
): MiddlewareHandler<E> {
  return async function bearerAuthMiddleware(c, next) {
    const token = expected(c);
    if (!token) {
      throw new ProblemError({
        title: "API token not configured",
        status: 503,
        detail: "the mixer has no API token: set the FLUXRIG_API_TOKEN secret (fluxrig-mixer dev makes one)",
      });
    }
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new ProblemError(
        {
          title: "Unauthorized",
          status: 401,
          detail: header
            ? "the Authorization header is not of the form 'Bearer <token>'"
            : "missing Authorization: Bearer <token>",
        },
        CHALLENGE,
      );
    }
    if (!(await constantTimeEqual(match[1] as string, token))) {
      throw new ProblemError(
        { title: "Unauthorized", status: 401, detail: "the bearer token is not valid" },
        { "WWW-Authenticate": 'Bearer realm="fluxrig-mixer", error="invalid_token"' },
      );
    }
    await next();
  };
}
