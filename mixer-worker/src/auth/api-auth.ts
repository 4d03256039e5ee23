import type { Context, MiddlewareHandler } from "hono";
import { type ApiScope, scopeCovers } from "../../../shared/auth/api-scopes.ts";
import type { MixerBindings } from "../env.ts";
import { constantTimeEqual } from "../http/constant-time.ts";
import { ProblemError } from "../http/problem.ts";
import { consoleLine } from "../self/console-line.ts";
import { checkApiToken, LAST_USED_RESOLUTION_MS, touchApiToken } from "./api-tokens.ts";
import { requiredScope } from "./route-scopes.ts";

const REALM = 'Bearer realm="fluxrig-mixer"';
/** The name the bootstrap token (`api.token`, FLUXRIG_API_TOKEN) goes by in answers: it is always admin. */
export const BOOTSTRAP_TOKEN_NAME = "api.token";

/** Who is calling: the token's name and scope, never the token. */
export interface ApiCaller {
  name: string;
  scope: ApiScope;
}

const unauthorized = (detail: string, challenge = `${REALM}, error="invalid_token"`) =>
  new ProblemError({ title: "Unauthorized", status: 401, detail }, { "WWW-Authenticate": challenge });

/** Runs a write after the answer when the runtime allows (a Worker), else before it (a bare `app.request`). */
async function afterResponse(c: Context, work: Promise<unknown>): Promise<void> {
  const settled = work.catch((error: Error) => consoleLine("error", `api auth: ${error.message}`));
  try {
    c.executionCtx.waitUntil(settled);
  } catch {
    await settled;
  }
}

/**
 * Requires `Authorization: Bearer <token>`: the bootstrap token `bootstrap(c)` returns (admin, compared in
 * constant time) or a scoped token from the registry. Then the call must be within the token's scope
 * ({@link requiredScope}): 401 for a missing, malformed, unknown, expired or revoked token, 403 naming the
 * scope needed and the scope held. No token is ever written to a log or an answer.
 *
 * @example app.use("/api/*", apiAuth((c) => mixerConfig(c.env).config.api.token));
 */
export function apiAuth(
  bootstrap: (c: Context<MixerBindings>) => string | undefined,
): MiddlewareHandler<MixerBindings> {
  return async function apiAuthMiddleware(c, next) {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw unauthorized(
        header
          ? "the Authorization header is not of the form 'Bearer <token>'"
          : "missing Authorization: Bearer <token>",
        REALM,
      );
    }
    const presented = match[1] as string;
    const now = Date.now();
    const scoped = await checkApiToken(c.env.REGISTRY, presented, now);
    let caller: ApiCaller | undefined;
    if (scoped.ok) {
      caller = { name: scoped.name, scope: scoped.scope };
      if (scoped.lastUsedAt === null || now - scoped.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
        await afterResponse(c, touchApiToken(c.env.REGISTRY, scoped.id, now));
      }
    } else if (scoped.reason !== "unknown") {
      throw unauthorized(
        `the token ${scoped.name} ${scoped.reason === "expired" ? "has expired" : "was revoked"}`,
      );
    } else {
      const expected = bootstrap(c);
      if (expected && (await constantTimeEqual(presented, expected))) {
        caller = { name: BOOTSTRAP_TOKEN_NAME, scope: "admin" };
      } else if (!expected) {
        throw new ProblemError({
          title: "API token not configured",
          status: 503,
          detail:
            "the mixer has no API token: set the FLUXRIG_API_TOKEN secret (fluxrig-mixer dev makes one)",
        });
      }
    }
    if (!caller) throw unauthorized("the bearer token is not valid");
    const needed = requiredScope(c.req.method, c.req.path);
    if (!scopeCovers(caller.scope, needed)) {
      throw new ProblemError(
        {
          title: "Forbidden",
          status: 403,
          detail: `${c.req.method} ${c.req.path.slice(0, 200)} needs a token of scope ${needed}; ${caller.name} has scope ${caller.scope}`,
          scope_needed: needed,
          token_scope: caller.scope,
        },
        { "WWW-Authenticate": `${REALM}, error="insufficient_scope", scope="${needed}"` },
      );
    }
    await next();
  };
}
