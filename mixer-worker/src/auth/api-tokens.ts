import type { ApiScope } from "../../../shared/auth/api-scopes.ts";
import { toBase64Url, toHex } from "../../../shared/passport/index.ts";
import { constantTimeEqual } from "../http/constant-time.ts";

/**
 * `fxr_<id>_<secret>`: the id (8 random bytes, hex) finds the row, the secret (32 random bytes) is what makes
 * the token unguessable. Only the SHA-256 of the whole token is kept: a fast hash is enough because 256 random
 * bits cannot be searched whatever the hash costs (slow hashes protect guessable passwords), and a slow one
 * would spend the Worker's CPU budget on every request, a lever for anyone sending bad tokens.
 */
const TOKEN_FORMAT = /^fxr_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;
/** `last_used_at` moves at most this often per token: one D1 write a minute, not one per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** The name the bootstrap token (`api.token`, FLUXRIG_API_TOKEN) goes by in answers: it is always admin. */
export const BOOTSTRAP_TOKEN_NAME = "api.token";

/** Who is calling: the token's name and scope, never the token. */
export interface ApiCaller {
  name: string;
  scope: ApiScope;
}

/** A token's row as the API shows it: never the token, never its hash. */
export interface ApiTokenView {
  name: string;
  scope: ApiScope;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  status: "active" | "expired" | "revoked";
}

interface ApiTokenRow {
  id: string;
  name: string;
  scope: ApiScope;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
}

/** Who a presented token turned out to be. */
export type TokenCheck =
  | { ok: true; id: string; name: string; scope: ApiScope; lastUsedAt: number | null }
  | { ok: false; reason: "unknown" | "expired" | "revoked"; name?: string };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

function view(row: ApiTokenRow, now: number): ApiTokenView {
  return {
    name: row.name,
    scope: row.scope,
    created_at: iso(row.created_at) as string,
    last_used_at: iso(row.last_used_at),
    expires_at: iso(row.expires_at),
    revoked_at: iso(row.revoked_at),
    status:
      row.revoked_at !== null
        ? "revoked"
        : row.expires_at !== null && row.expires_at <= now
          ? "expired"
          : "active",
  };
}

/**
 * Makes a token and keeps its hash; the token is in the answer and nowhere else, ever. `conflict` when a
 * token of that name is not revoked (an expired one too: revoke it first, so a name means one token).
 *
 * @example const made = await createApiToken(env.REGISTRY, { name: "grafana", scope: "read", expiresAt: null }, Date.now());
 */
export async function createApiToken(
  db: D1Database,
  spec: { name: string; scope: ApiScope; expiresAt: number | null },
  now: number,
): Promise<{ token: string; view: ApiTokenView } | "conflict"> {
  const id = toHex(crypto.getRandomValues(new Uint8Array(8)));
  const token = `fxr_${id}_${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
  const row: ApiTokenRow = {
    id,
    name: spec.name,
    scope: spec.scope,
    token_hash: await sha256Hex(token),
    created_at: now,
    last_used_at: null,
    expires_at: spec.expiresAt,
    revoked_at: null,
  };
  const inserted = await db
    .prepare(
      "INSERT INTO api_tokens (id, name, scope, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(row.id, row.name, row.scope, row.token_hash, row.created_at, row.expires_at)
    .run();
  if (inserted.meta.changes === 0) return "conflict";
  return { token, view: view(row, now) };
}

/** Every token, live ones first, then by name: for `GET /api/v1/tokens`. */
export async function listApiTokens(db: D1Database, now: number): Promise<ApiTokenView[]> {
  const { results } = await db
    .prepare("SELECT * FROM api_tokens ORDER BY revoked_at IS NOT NULL, name, created_at")
    .all<ApiTokenRow>();
  return results.map((row) => view(row, now));
}

/** Revokes the live token of that name; undefined when there is none. Revoked is final. */
export async function revokeApiToken(
  db: D1Database,
  name: string,
  now: number,
): Promise<ApiTokenView | undefined> {
  const row = await db
    .prepare("UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL RETURNING *")
    .bind(now, name)
    .first<ApiTokenRow>();
  return row ? view(row, now) : undefined;
}

/** A token's public id, or undefined when `presented` is not shaped like one of ours. */
const apiTokenId = (presented: string): string | undefined => TOKEN_FORMAT.exec(presented)?.[1];

/** The SHA-256 of a token, hex: all the registry (and a console session) keeps of it. */
export const apiTokenHash = sha256Hex;

/**
 * Checks a presented bearer token against the registry: found by its public id, then its hash compared in
 * constant time. Anything not shaped like one of ours is `unknown` without a query.
 */
export async function checkApiToken(db: D1Database, presented: string, now: number): Promise<TokenCheck> {
  const id = apiTokenId(presented);
  if (!id) return { ok: false, reason: "unknown" };
  return checkApiTokenHash(db, id, await sha256Hex(presented), now);
}

/**
 * The same check from a token's id and hash (what a console session holds instead of the token), so a
 * session dies with its token: revoked or expired, it is refused at the next request.
 */
export async function checkApiTokenHash(
  db: D1Database,
  id: string,
  hash: string,
  now: number,
): Promise<TokenCheck> {
  const row = await db.prepare("SELECT * FROM api_tokens WHERE id = ?").bind(id).first<ApiTokenRow>();
  // Compared even when no row matched, so a made-up id costs the same as a real one with a wrong secret.
  if (!(await constantTimeEqual(hash, row?.token_hash ?? ""))) return { ok: false, reason: "unknown" };
  if (!row) return { ok: false, reason: "unknown" };
  if (row.revoked_at !== null) return { ok: false, reason: "revoked", name: row.name };
  if (row.expires_at !== null && row.expires_at <= now)
    return { ok: false, reason: "expired", name: row.name };
  return { ok: true, id: row.id, name: row.name, scope: row.scope, lastUsedAt: row.last_used_at };
}

/** Moves a token's `last_used_at` to `now` unless it moved within the last minute (by any isolate). */
export async function touchApiToken(db: D1Database, id: string, now: number): Promise<void> {
  await db
    .prepare(
      "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?3)",
    )
    .bind(now, id, now - LAST_USED_RESOLUTION_MS)
    .run();
}
