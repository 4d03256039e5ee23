import type { Context, MiddlewareHandler } from "hono";
import { scopeCovers } from "../../../shared/auth/api-scopes.ts";
import type { MixerBindings, MixerEnv } from "../env.ts";
import { constantTimeEqual } from "../http/constant-time.ts";
import { ProblemError } from "../http/problem.ts";
import { consoleLine } from "../self/console-line.ts";
import {
  type ApiCaller,
  apiTokenHash,
  BOOTSTRAP_TOKEN_NAME,
  checkApiToken,
  LAST_USED_RESOLUTION_MS,
  touchApiToken,
} from "./api-tokens.ts";
import { CSRF_HEADER, readSession, type SessionCredential } from "./console-session.ts";
import { requiredScope } from "./route-scopes.ts";

const REALM = 'Bearer realm="fluxrig-mixer"';
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Where the bootstrap token (`api.token`) comes from: the mixer's config, read per request. */
export type BootstrapToken = (env: MixerEnv) => string | undefined;

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
 * Who a presented token is: the bootstrap token (admin, compared in constant time) or a scoped token from
 * the registry; 401 for an unknown, expired or revoked one. Also what a console session is opened with.
 *
 * @example const { caller } = await tokenCaller(c, presented, bootstrap(c.env));
 */
export async function tokenCaller<E extends MixerBindings>(
  c: Context<E>,
  presented: string,
  bootstrap: string | undefined,
): Promise<{ caller: ApiCaller; credential: SessionCredential }> {
  const now = Date.now();
  const scoped = await checkApiToken(c.env.REGISTRY, presented, now);
  if (scoped.ok) {
    if (scoped.lastUsedAt === null || now - scoped.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
      await afterResponse(c, touchApiToken(c.env.REGISTRY, scoped.id, now));
    }
    return {
      caller: { name: scoped.name, scope: scoped.scope },
      credential: { tokenId: scoped.id, hash: await apiTokenHash(presented) },
    };
  }
  if (scoped.reason !== "unknown") {
    throw unauthorized(
      `the token ${scoped.name} ${scoped.reason === "expired" ? "has expired" : "was revoked"}`,
    );
  }
  if (!bootstrap) {
    throw new ProblemError({
      title: "API token not configured",
      status: 503,
      detail: "the mixer has no API token: set the FLUXRIG_API_TOKEN secret (fluxrig-mixer dev makes one)",
    });
  }
  if (!(await constantTimeEqual(presented, bootstrap))) throw unauthorized("the bearer token is not valid");
  return {
    caller: { name: BOOTSTRAP_TOKEN_NAME, scope: "admin" },
    credential: { tokenId: null, hash: await apiTokenHash(presented) },
  };
}

/**
 * The caller of a request without a bearer token: its console session, if valid. An unsafe method must
 * also carry the session's CSRF token in {@link CSRF_HEADER}: SameSite=Strict already keeps other sites'
 * requests from carrying the cookie, this keeps any script the console did not write from using it.
 */
async function sessionCaller<E extends MixerBindings>(
  c: Context<E>,
  bootstrap: string | undefined,
): Promise<ApiCaller> {
  const session = await readSession(c, bootstrap, Date.now());
  if (!session) throw unauthorized("missing Authorization: Bearer <token>", REALM);
  if (!SAFE_METHODS.has(c.req.method.toUpperCase())) {
    const presented = c.req.header(CSRF_HEADER) ?? "";
    if (!(await constantTimeEqual(presented, session.csrf))) {
      throw new ProblemError({
        title: "Forbidden",
        status: 403,
        detail: `${c.req.method} with a console session needs the session's ${CSRF_HEADER} header`,
      });
    }
  }
  return session.caller;
}

/**
 * Requires `Authorization: Bearer <token>` (see {@link tokenCaller}) or a console session cookie. Then the
 * call must be within the caller's scope ({@link requiredScope}): 401 for a missing, malformed, unknown,
 * expired or revoked token, 403 naming the scope needed and the scope held. No token is ever written to a
 * log or an answer.
 *
 * @example app.use("/api/*", apiAuth((c) => mixerConfig(c.env).config.api.token));
 */
export function apiAuth(bootstrap: BootstrapToken): MiddlewareHandler<MixerBindings> {
  return async function apiAuthMiddleware(c, next) {
    const header = c.req.header("authorization");
    let caller: ApiCaller;
    if (header === undefined) {
      caller = await sessionCaller(c, bootstrap(c.env));
    } else {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) {
        throw unauthorized(
          header
            ? "the Authorization header is not of the form 'Bearer <token>'"
            : "missing Authorization: Bearer <token>",
          REALM,
        );
      }
      caller = (await tokenCaller(c, match[1] as string, bootstrap(c.env))).caller;
    }
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
