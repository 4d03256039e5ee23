import type { Context } from "hono";
import { type ConsoleSession, CSRF_HEADER } from "../auth/console-session.ts";
import type { MixerBindings, MixerEnv } from "../env.ts";

/** The API's answer to a console call: its JSON, or its problem (status, title, detail). */
export type ApiResult<T> =
  | { ok: true; data: T }
  | { ok: false; status: number; title: string; detail: string; retryAfter?: string };

/** How a console page calls the API: in process, as the signed-in user, through the same routes and scopes. */
export interface ConsoleApi {
  get<T>(path: string, query?: Record<string, string | undefined>): Promise<ApiResult<T>>;
  post<T>(path: string, query?: Record<string, string | undefined>): Promise<ApiResult<T>>;
}

/** The Worker's own fetch: the console's calls go through the API app, never around it. */
export type ApiFetch = (request: Request, env: MixerEnv, ctx: Context["executionCtx"]) => Promise<Response>;

function url(c: Context, path: string, query: Record<string, string | undefined> = {}): string {
  const target = new URL(`/api/v1${path}`, c.req.url);
  for (const [key, value] of Object.entries(query)) if (value) target.searchParams.set(key, value);
  return target.toString();
}

async function result<T>(response: Response): Promise<ApiResult<T>> {
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.ok) return { ok: true, data: body as T };
  return {
    ok: false,
    status: response.status,
    title: String(body.title ?? response.statusText),
    detail: String(body.detail ?? ""),
    ...(response.headers.get("retry-after")
      ? { retryAfter: response.headers.get("retry-after") as string }
      : {}),
  };
}

/**
 * The API as `session` may use it: each call is an in-process request carrying the browser's session
 * cookie (and its CSRF token on a POST), so the API's scope checks decide what the console can do.
 *
 * @example const racks = await consoleApi(c, apiFetch, session).get<{ racks: Rack[] }>("/racks");
 */
export function consoleApi<E extends MixerBindings>(
  c: Context<E>,
  apiFetch: ApiFetch,
  session: ConsoleSession,
): ConsoleApi {
  const cookie = c.req.header("cookie") ?? "";
  const call = async <T>(method: string, path: string, query?: Record<string, string | undefined>) =>
    result<T>(
      await apiFetch(
        new Request(url(c, path, query), {
          method,
          headers: {
            cookie,
            accept: "application/json",
            ...(method === "GET" ? {} : { [CSRF_HEADER]: session.csrf }),
          },
        }),
        c.env,
        c.executionCtx,
      ),
    );
  return { get: (path, query) => call("GET", path, query), post: (path, query) => call("POST", path, query) };
}
