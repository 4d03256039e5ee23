import { createExecutionContext } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { ApiScope } from "../../../shared/auth/api-scopes.ts";
import { hostileRequest, type KnownValues, toRequest } from "../../test-helpers/hostile-requests.ts";
import { mixerEnv, testRack, verifyWithPublishedKey } from "../../test-helpers/test-rack.ts";
import { createApiToken } from "../auth/api-tokens.ts";
import worker from "../index.ts";

/** Requests per scope: the acceptance figure. */
const RUNS = 1_000;
const WINDOW = { since: "2025-06-13T10:00:00Z", until: "2025-06-13T12:00:00Z" };
const known: KnownValues = { rackIds: [], cursors: [], fileKeys: [], fluxIds: [], window: WINDOW };

/** How a request presents a token of the scope under test. */
const PRESENTATIONS = ["valid", "expired", "revoked", "malformed", "forged"] as const;
type Presentation = (typeof PRESENTATIONS)[number];

/** Per scope: a live token, an expired one and a revoked one. */
const made = {} as Record<ApiScope, Record<"valid" | "expired" | "revoked", string>>;

async function token(name: string, scope: ApiScope, expiresAt: number | null = null): Promise<string> {
  const result = await createApiToken(mixerEnv.REGISTRY, { name, scope, expiresAt }, Date.now());
  if (result === "conflict") throw new Error(`token ${name} exists`);
  return result.token;
}

beforeAll(async () => {
  for (const scope of ["read", "operate", "admin"] as const) {
    const expired = await token(`fuzz-${scope}-expired`, scope, Date.now() + 60_000);
    await mixerEnv.REGISTRY.prepare("UPDATE api_tokens SET expires_at = 1 WHERE name = ?")
      .bind(`fuzz-${scope}-expired`)
      .run();
    const revoked = await token(`fuzz-${scope}-revoked`, scope);
    await mixerEnv.REGISTRY.prepare("UPDATE api_tokens SET revoked_at = 1 WHERE name = ?")
      .bind(`fuzz-${scope}-revoked`)
      .run();
    made[scope] = { valid: await token(`fuzz-${scope}`, scope), expired, revoked };
  }
  const reply = await (await testRack("fuzz-scope-rack")).enroll();
  if (!reply.ok) throw new Error(reply.error);
  known.rackIds = [(await verifyWithPublishedKey(reply.passport, reply.cluster_key)).rack_id];
}, 60_000);

/** The Authorization header for one presentation of a scope's token; malformed and forged ones vary. */
const authorization = (scope: ApiScope, presentation: Presentation): fc.Arbitrary<string> => {
  const live = made[scope].valid;
  switch (presentation) {
    case "valid":
    case "expired":
    case "revoked":
      return fc.constant(`Bearer ${made[scope][presentation]}`);
    case "malformed":
      return fc.oneof(
        fc.constant(`Bearer ${live} extra`),
        fc.constant(`Basic ${live}`),
        fc.constant(`Bearer`),
        fc.constant(live),
        fc.nat({ max: live.length - 1 }).map((cut) => `Bearer ${live.slice(0, cut)}`),
      );
    case "forged":
      // Right shape, wrong bytes: one character of the id or the secret changed, or a token of our own.
      return fc.oneof(
        fc
          .tuple(fc.integer({ min: 4, max: live.length - 1 }), fc.constantFrom(..."0aZ-_"))
          .filter(([at, char]) => live[at] !== char && live[at] !== "_")
          .map(([at, char]) => `Bearer ${live.slice(0, at)}${char}${live.slice(at + 1)}`),
        fc
          .tuple(fc.stringMatching(/^[0-9a-f]{16}$/), fc.base64String({ minLength: 44, maxLength: 44 }))
          .map(
            ([id, secret]) =>
              `Bearer fxr_${id}_${secret.slice(0, 43).replaceAll("+", "-").replaceAll("/", "_")}`,
          ),
      );
  }
};

/** Hono decodes runs of percent escapes in the path before routing; the oracle does the same. */
const routedPath = (pathname: string) =>
  pathname.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURI(run);
    } catch {
      return run;
    }
  });

/** The scope each call needs, written out independently of route-scopes.ts. */
function oracle(method: string, path: string): ApiScope {
  const m = method === "HEAD" ? "GET" : method;
  const read =
    /^\/api\/v1\/(telemetry\/.*|racks(\/[^/]+)?|scenarios(\/[^/]+(\/status)?)?|config|messages(\/.*)?|flux\/.*|specs(\/.*)?)\/?$/;
  if (m === "GET" && read.test(path)) return "read";
  const operate = /^\/api\/v1\/(racks\/[^/]+\/(approve|suspend)|scenarios(\/[^/]+\/activate)?|specs)\/?$/;
  if (m === "POST" && operate.test(path)) return "operate";
  return "admin";
}

const RANK: Record<ApiScope, number> = { read: 0, operate: 1, admin: 2 };

describe("scoped tokens under fuzzed requests", () => {
  for (const scope of ["read", "operate", "admin"] as const) {
    it(`answers ${RUNS} requests with a ${scope} token (valid, expired, revoked, malformed, forged) with 401/403 where due, never a 5xx`, async () => {
      const seen = new Map<string, number>();
      const arbitrary = fc.constantFrom(...PRESENTATIONS).chain((presentation) =>
        fc.record({
          presentation: fc.constant(presentation),
          header: authorization(scope, presentation),
          request: hostileRequest(known),
        }),
      );
      await fc.assert(
        fc.asyncProperty(arbitrary, async ({ presentation, header, request }) => {
          const req = toRequest(request, { authorization: header });
          const res = await worker.fetch(req, mixerEnv, createExecutionContext());
          const where = `${presentation} ${scope}: ${request.method} ${request.url.slice(0, 200)} → ${res.status}`;
          const path = routedPath(new URL(req.url).pathname);
          if (path === "/health" && (request.method === "GET" || request.method === "HEAD")) {
            // Public, and 503 once the bus (there is no NATS in this project) has been away past its grace.
            expect([200, 503], where).toContain(res.status);
            await res.body?.cancel();
            return;
          }
          expect(res.status, where).toBeLessThan(500);
          const guarded = path.startsWith("/api/") && path !== "/api/v1/cluster-key";
          if (guarded && presentation !== "valid") expect(res.status, where).toBe(401);
          if (guarded && presentation === "valid") {
            const needed = oracle(request.method, path);
            if (RANK[scope] < RANK[needed]) expect(res.status, where).toBe(403);
            else expect([401, 403], where).not.toContain(res.status);
          }
          if (res.status === 401 || res.status === 403) {
            expect(res.headers.get("content-type"), where).toBe("application/problem+json");
            const text = await res.text();
            if (res.status === 403 && request.method !== "HEAD") {
              expect(JSON.parse(text), where).toMatchObject({ token_scope: scope });
            }
          } else await res.body?.cancel();
          const key = `${presentation} ${res.status === 401 || res.status === 403 ? res.status : "passed"}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        }),
        { numRuns: RUNS },
      );
      // Each presentation was tried, and a valid token of a narrow scope both passed and was refused.
      for (const presentation of ["expired", "revoked", "malformed", "forged"]) {
        expect(seen.get(`${presentation} 401`), presentation).toBeGreaterThan(50);
      }
      expect(seen.get("valid passed")).toBeGreaterThan(50);
      if (scope !== "admin") expect(seen.get("valid 403")).toBeGreaterThan(20);
    }, 300_000);
  }
});
