import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as z from "zod";
import { API_SCOPES, apiTokenName } from "../../../shared/auth/api-scopes.ts";
import { parseDuration } from "../../../shared/config/duration.ts";
import { createApiToken, listApiTokens, revokeApiToken } from "../auth/api-tokens.ts";
import type { MixerBindings } from "../env.ts";
import { ProblemError, problemResponse } from "../http/problem.ts";
import { badParameter, pathParam } from "../http/query-params.ts";
import { selfLog } from "../self/api-usage.ts";

/** Ten years: a token that must outlive that should not expire at all (omit `expires_in`). */
const MAX_EXPIRES_MS = 3_650 * 86_400_000;
const MAX_BODY_BYTES = 4_096;

const expiresIn = z
  .string()
  .max(64)
  .refine((text) => {
    const parsed = parseDuration(text);
    return parsed.ok && parsed.ms > 0 && parsed.ms <= MAX_EXPIRES_MS;
  })
  .describe("a duration from 1s to 3650d (90d, 12h, 30m), or absent for a token that does not expire");
const createBody = z.strictObject({
  name: apiTokenName,
  scope: z.enum(API_SCOPES).describe(`one of ${API_SCOPES.join(", ")}`),
  expires_in: expiresIn.optional(),
});

/**
 * Scoped API tokens (admin only, see route-scopes.ts): `POST /api/v1/tokens` `{name, scope, expires_in?}`
 * answers 201 with the token, the only time it is ever shown; `GET /api/v1/tokens` lists them without it;
 * `DELETE /api/v1/tokens/{name}` (or `POST …/{name}/revoke`) revokes the live token of that name.
 */
export const tokens = new Hono<MixerBindings>()
  .post(
    "/",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        problemResponse(c, {
          title: "Content Too Large",
          status: 413,
          detail: `at most ${MAX_BODY_BYTES} bytes`,
        }),
    }),
    async (c) => {
      const raw: unknown = await c.req.json().catch(() => undefined);
      const body = createBody.safeParse(raw);
      if (!body.success) {
        const issue = body.error.issues[0];
        const parameter = String(issue?.path[0] ?? "body");
        const field = createBody.shape[parameter as keyof typeof createBody.shape] as z.ZodType | undefined;
        const given = raw && typeof raw === "object" ? (raw as Record<string, unknown>)[parameter] : raw;
        throw badParameter({
          parameter,
          value: given === undefined ? "(absent)" : String(JSON.stringify(given)),
          allowed: field?.description ?? 'JSON {"name": …, "scope": …, "expires_in"?: …} and nothing else',
        });
      }
      const now = Date.now();
      const { name, scope, expires_in } = body.data;
      const expiresAt =
        expires_in === undefined ? null : now + (parseDuration(expires_in) as { ms: number }).ms;
      const made = await createApiToken(c.env.REGISTRY, { name, scope, expiresAt }, now);
      if (made === "conflict") {
        throw new ProblemError({
          title: "Conflict",
          status: 409,
          parameter: "name",
          detail: `a token named ${name} exists and is not revoked: revoke it first, or choose another name`,
        });
      }
      selfLog(c, "info", `API token ${name} (scope ${scope}) created`, { token_name: name, scope });
      return c.json({ ...made.view, token: made.token }, 201, { "cache-control": "no-store" });
    },
  )
  .get("/", async (c) => c.json({ tokens: await listApiTokens(c.env.REGISTRY, Date.now()) }))
  .delete("/:name", revoke)
  .post("/:name/revoke", revoke);

/** Revokes the live token the `name` path parameter names: 404 when there is none. */
async function revoke(c: Context<MixerBindings>) {
  const name = pathParam(c, "name", apiTokenName);
  const revoked = await revokeApiToken(c.env.REGISTRY, name, Date.now());
  if (!revoked) {
    throw new ProblemError({
      title: "Not Found",
      status: 404,
      parameter: "name",
      detail: `no live token named ${name}`,
    });
  }
  selfLog(c, "info", `API token ${name} (scope ${revoked.scope}) revoked`, {
    token_name: name,
    scope: revoked.scope,
  });
  return c.json(revoked);
}
