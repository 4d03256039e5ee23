import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import * as z from "zod";
import { toBase64Url } from "../../../shared/passport/index.ts";
import type { MixerBindings } from "../env.ts";
import { constantTimeEqual } from "../http/constant-time.ts";
import { openToken, sealToken } from "../http/signed-token.ts";
import { type ApiCaller, apiTokenHash, BOOTSTRAP_TOKEN_NAME, checkApiTokenHash } from "./api-tokens.ts";

/** The console's session cookie: sealed by the mixer, HttpOnly, Secure, SameSite=Strict. */
export const SESSION_COOKIE = "fluxrig_session";
/** How long a console sign-in lasts. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** The header (or form field) an unsafe request made with the session must carry: its CSRF token. */
export const CSRF_HEADER = "x-fluxrig-csrf";
const SEAL_SCOPE = "console session v1";

/**
 * What the cookie holds: the token's id (null for the bootstrap token) and hash, never the token, so a
 * session is checked against the registry on every request and dies with its token.
 */
const sealedSchema = z.object({
  i: z.string().nullable(),
  h: z.string().regex(/^[0-9a-f]{64}$/),
  e: z.number(),
  x: z.string().min(16),
});

/** A signed-in console user. */
export interface ConsoleSession {
  caller: ApiCaller;
  /** Unsafe requests made with the session carry this, in {@link CSRF_HEADER} or a form's `csrf` field. */
  csrf: string;
  expiresAt: number;
}

/** The token a session was opened with, as {@link startSession} needs it. */
export interface SessionCredential {
  tokenId: string | null;
  hash: string;
}

/**
 * Signs the caller in: sets the session cookie for `credential`, valid {@link SESSION_TTL_MS}.
 *
 * @example await startSession(c, { tokenId: null, hash: await apiTokenHash(token) }, Date.now());
 */
export async function startSession<E extends MixerBindings>(
  c: Context<E>,
  credential: SessionCredential,
  now: number,
): Promise<void> {
  const sealed = {
    i: credential.tokenId,
    h: credential.hash,
    e: now + SESSION_TTL_MS,
    x: toBase64Url(crypto.getRandomValues(new Uint8Array(18))),
  };
  setCookie(c, SESSION_COOKIE, await sealToken(c.env, SEAL_SCOPE, sealed), {
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    path: "/",
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

/** Signs out: the cookie is cleared (a copy kept elsewhere still dies at its expiry or with its token). */
export function endSession<E extends MixerBindings>(c: Context<E>): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true, httpOnly: true, sameSite: "Strict" });
}

/**
 * The request's console session, or undefined when it has none, or a forged, expired or foreign cookie,
 * or one whose token was revoked, has expired, or (the bootstrap token) was changed since.
 */
export async function readSession<E extends MixerBindings>(
  c: Context<E>,
  bootstrap: string | undefined,
  now: number,
): Promise<ConsoleSession | undefined> {
  const cookie = getCookie(c, SESSION_COOKIE);
  if (!cookie) return undefined;
  const sealed = await openToken(c.env, SEAL_SCOPE, cookie, sealedSchema);
  if (!sealed || sealed.e <= now) return undefined;
  let caller: ApiCaller | undefined;
  if (sealed.i === null) {
    if (bootstrap && (await constantTimeEqual(sealed.h, await apiTokenHash(bootstrap))))
      caller = { name: BOOTSTRAP_TOKEN_NAME, scope: "admin" };
  } else {
    const check = await checkApiTokenHash(c.env.REGISTRY, sealed.i, sealed.h, now);
    if (check.ok) caller = { name: check.name, scope: check.scope };
  }
  return caller ? { caller, csrf: sealed.x, expiresAt: sealed.e } : undefined;
}
