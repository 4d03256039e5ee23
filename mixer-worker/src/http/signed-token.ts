import type { z } from "zod";
import { fromBase64Url, toBase64Url } from "../../../shared/passport/index.ts";
import type { MixerEnv } from "../env.ts";
import { ProblemError } from "./problem.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

let cached: { secret: string; key: Promise<CryptoKey> } | undefined;

/**
 * The HMAC key of the tokens the API hands out and takes back (page cursors), derived with HKDF from the
 * MIXER_CLUSTER_KEY secret. Not from the API token: every client holds that one, and could forge with it.
 */
function tokenKey(env: MixerEnv): Promise<CryptoKey> {
  const secret = typeof env.MIXER_CLUSTER_KEY === "string" ? env.MIXER_CLUSTER_KEY.trim() : "";
  if (!secret) {
    throw new ProblemError({
      title: "Cluster key not configured",
      status: 503,
      detail:
        "the mixer has no cluster key, which also signs page cursors: set the MIXER_CLUSTER_KEY secret (fluxrig-mixer dev makes one under store.dir)",
    });
  }
  if (cached?.secret !== secret) cached = { secret, key: deriveKey(secret) };
  return cached.key;
}

async function deriveKey(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: encoder.encode("fluxrig-mixer"),
      info: encoder.encode("api token signing v1"),
    },
    material,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

/** What the MAC covers: the scope binds a token to where it may be used (endpoint, filters). */
const signed = (scope: string, body: string) => encoder.encode(`${scope}\n${body}`);

/**
 * A token carrying `payload` (JSON) that only this mixer can make, valid only for `scope`:
 * `<payload base64url>.<HMAC-SHA256 base64url>`.
 *
 * @example const next = await sealToken(c.env, '["files","telemetry/"]', { c: page.cursor });
 */
export async function sealToken(env: MixerEnv, scope: string, payload: unknown): Promise<string> {
  const body = toBase64Url(encoder.encode(JSON.stringify(payload)));
  const mac = await crypto.subtle.sign("HMAC", await tokenKey(env), signed(scope, body));
  return `${body}.${toBase64Url(new Uint8Array(mac))}`;
}

/**
 * The payload of a token {@link sealToken} made for `scope`, checked by `schema`; undefined for anything
 * else (garbage, tampered, another scope, another cluster key). The MAC is checked first, in constant time,
 * so nothing a client made up is ever parsed.
 *
 * @example const payload = await openToken(c.env, scope, token, z.object({ c: z.string() }));
 */
export async function openToken<T>(
  env: MixerEnv,
  scope: string,
  token: string,
  schema: z.ZodType<T>,
): Promise<T | undefined> {
  const key = await tokenKey(env);
  const [body, mac, ...rest] = token.split(".");
  if (!body || !mac || rest.length > 0) return undefined;
  try {
    if (!(await crypto.subtle.verify("HMAC", key, fromBase64Url(mac), signed(scope, body)))) return undefined;
    const parsed = schema.safeParse(JSON.parse(decoder.decode(fromBase64Url(body))));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // Not base64url, not UTF-8 or not JSON: not a token of ours.
    return undefined;
  }
}
