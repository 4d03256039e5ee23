import * as z from "zod";

/** API token scopes, narrowest first: each one allows everything the ones before it do. */
export const API_SCOPES = ["read", "operate", "admin"] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/**
 * Whether a token of scope `held` may make a call that needs `needed`.
 *
 * @example scopeCovers("operate", "read") // true
 */
export function scopeCovers(held: ApiScope, needed: ApiScope): boolean {
  return API_SCOPES.indexOf(held) >= API_SCOPES.indexOf(needed);
}

/** An API token's name: what `fluxrig tokens revoke NAME` takes, so no "/" and nothing to quote. */
export const apiTokenName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)
  .describe('1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit');
