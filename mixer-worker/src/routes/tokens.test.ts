import { SELF } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { API_TOKEN } from "../../test-helpers/telemetry-api.ts";
import { mixerEnv, testRack, verifyWithPublishedKey } from "../../test-helpers/test-rack.ts";

type Answer = { status: number; headers: Headers; body: Record<string, unknown> };

async function call(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await SELF.fetch(`http://mixer${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

async function createToken(
  name: string,
  scope: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const made = await call(API_TOKEN, "POST", "/api/v1/tokens", { name, scope, ...extra });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  return made.body.token as string;
}

const tokens: Record<"read" | "operate" | "admin", string> = { read: "", operate: "", admin: "" };
let rackId = "";

beforeAll(async () => {
  tokens.read = await createToken("grafana", "read");
  tokens.operate = await createToken("ops-bot", "operate", { expires_in: "90d" });
  tokens.admin = await createToken("root-2", "admin");
  const reply = await (await testRack("scope-rack")).enroll();
  if (!reply.ok) throw new Error(reply.error);
  rackId = (await verifyWithPublishedKey(reply.passport, reply.cluster_key)).rack_id;
});

afterEach(() => vi.restoreAllMocks());

describe("POST, GET, DELETE /api/v1/tokens", () => {
  it("shows a new token once, in a form that names no secret elsewhere, and lists tokens without it", async () => {
    expect(tokens.read).toMatch(/^fxr_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const list = await call(API_TOKEN, "GET", "/api/v1/tokens");
    expect(list.status).toBe(200);
    const text = JSON.stringify(list.body);
    for (const token of Object.values(tokens)) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.slice(21)); // the secret part
    }
    expect(text).not.toMatch(/hash/);
    const grafana = (list.body.tokens as Record<string, unknown>[]).find((t) => t.name === "grafana");
    expect(grafana).toMatchObject({ scope: "read", status: "active", expires_at: null, revoked_at: null });
    const ops = (list.body.tokens as Record<string, unknown>[]).find((t) => t.name === "ops-bot");
    const expiresIn = Date.parse(ops?.expires_at as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(89 * 86_400_000);
    expect(expiresIn).toBeLessThanOrEqual(90 * 86_400_000);
  });

  it("refuses a second live token of one name, a bad scope, name or expiry, naming the field", async () => {
    expect((await call(API_TOKEN, "POST", "/api/v1/tokens", { name: "grafana", scope: "read" })).status).toBe(
      409,
    );
    const scope = await call(API_TOKEN, "POST", "/api/v1/tokens", { name: "x", scope: "root" });
    expect([scope.status, scope.body.parameter]).toEqual([400, "scope"]);
    const name = await call(API_TOKEN, "POST", "/api/v1/tokens", { name: "a/b", scope: "read" });
    expect([name.status, name.body.parameter]).toEqual([400, "name"]);
    const expires = await call(API_TOKEN, "POST", "/api/v1/tokens", {
      name: "x",
      scope: "read",
      expires_in: "soon",
    });
    expect([expires.status, expires.body.parameter]).toEqual([400, "expires_in"]);
    const extra = await call(API_TOKEN, "POST", "/api/v1/tokens", {
      name: "x",
      scope: "read",
      token: "mine",
    });
    expect(extra.status).toBe(400);
    expect((await call(API_TOKEN, "POST", "/api/v1/tokens", "{")).status).toBe(400);
  });

  it("revokes by name (DELETE or POST …/revoke): the token is refused at once, and the name is free again", async () => {
    const first = await createToken("short-lived", "read");
    expect((await call(first, "GET", "/api/v1/racks")).status).toBe(200);
    const revoked = await call(API_TOKEN, "DELETE", "/api/v1/tokens/short-lived");
    expect(revoked.body).toMatchObject({ name: "short-lived", status: "revoked" });
    const refused = await call(first, "GET", "/api/v1/racks");
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toBe("the token short-lived was revoked");
    expect((await call(API_TOKEN, "DELETE", "/api/v1/tokens/short-lived")).status).toBe(404);
    const second = await createToken("short-lived", "read");
    expect((await call(API_TOKEN, "POST", "/api/v1/tokens/short-lived/revoke")).status).toBe(200);
    expect((await call(second, "GET", "/api/v1/racks")).status).toBe(401);
  });

  it("refuses an expired token with 401", async () => {
    const token = await createToken("expiring", "admin", { expires_in: "1h" });
    await mixerEnv.REGISTRY.prepare("UPDATE api_tokens SET expires_at = ? WHERE name = 'expiring'")
      .bind(Date.now() - 1)
      .run();
    const refused = await call(token, "GET", "/api/v1/racks");
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toBe("the token expiring has expired");
    expect(refused.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("refuses a made-up token of the right shape and a real id with a wrong secret", async () => {
    const madeUp = `fxr_0123456789abcdef_${"A".repeat(43)}`;
    expect((await call(madeUp, "GET", "/api/v1/racks")).status).toBe(401);
    const wrongSecret = `${tokens.admin.slice(0, 21)}${"B".repeat(43)}`;
    expect((await call(wrongSecret, "GET", "/api/v1/racks")).status).toBe(401);
    expect((await call(`${tokens.admin}x`, "GET", "/api/v1/racks")).status).toBe(401);
  });

  it("moves last_used_at on use, at most once a minute", async () => {
    const token = await createToken("usage", "read");
    const lastUsed = async () =>
      (
        await mixerEnv.REGISTRY.prepare("SELECT last_used_at FROM api_tokens WHERE name = 'usage'").first<{
          last_used_at: number | null;
        }>()
      )?.last_used_at;
    expect(await lastUsed()).toBeNull();
    await call(token, "GET", "/api/v1/racks");
    await vi.waitUntil(async () => (await lastUsed()) !== null);
    const first = await lastUsed();
    await call(token, "GET", "/api/v1/racks");
    expect(await lastUsed()).toBe(first);
    await mixerEnv.REGISTRY.prepare("UPDATE api_tokens SET last_used_at = ? WHERE name = 'usage'")
      .bind(Date.now() - 61_000)
      .run();
    await call(token, "GET", "/api/v1/racks");
    await vi.waitUntil(async () => ((await lastUsed()) ?? 0) > Date.now() - 10_000);
  });

  it("never writes a token to a log line", async () => {
    const lines: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
    const token = await createToken("quiet", "read");
    await call(token, "GET", "/api/v1/racks");
    await call(token, "POST", `/api/v1/racks/${rackId}/revoke`);
    await call(`${token}x`, "GET", "/api/v1/racks");
    await call(API_TOKEN, "DELETE", "/api/v1/tokens/quiet");
    await call(token, "GET", "/api/v1/racks");
    for (const line of lines) {
      expect(line).not.toContain(token.slice(21));
      expect(line).not.toContain(API_TOKEN);
    }
  });
});

describe("scopes: read < operate < admin", () => {
  const scenarioYaml = "meta: {name: scoped, version: '1'}\n";
  const classes = {
    read: [
      ["GET", "/api/v1/racks"],
      ["GET", () => `/api/v1/racks/${rackId}`],
      ["GET", "/api/v1/telemetry/files"],
      ["GET", "/api/v1/telemetry/logs?since=1h"],
      ["GET", "/api/v1/scenarios"],
      ["GET", "/api/v1/scenarios/none/status"],
      ["GET", "/api/v1/config"],
    ],
    operate: [
      ["POST", () => `/api/v1/racks/${rackId}/approve`],
      ["POST", () => `/api/v1/racks/${rackId}/suspend`],
      ["POST", "/api/v1/scenarios", scenarioYaml],
      ["POST", "/api/v1/scenarios/none/activate"],
    ],
    admin: [
      ["POST", () => `/api/v1/racks/${rackId}/revoke`],
      ["PUT", () => `/api/v1/racks/${rackId}/secrets/db_password`, { value: "s3cret" }],
      ["DELETE", () => `/api/v1/racks/${rackId}/secrets/db_password`],
      ["GET", "/api/v1/tokens"],
      ["POST", "/api/v1/tokens", { name: "made-by-x", scope: "read" }],
      ["DELETE", "/api/v1/tokens/nobody"],
      // A route nobody gave a scope: admin's, so it is never open by accident.
      ["GET", "/api/v1/not-a-route"],
    ],
  } as const;
  type Case = readonly [string, string | (() => string), unknown?];
  const RANK = { read: 0, operate: 1, admin: 2 } as const;

  for (const held of ["read", "operate", "admin"] as const) {
    it(`a ${held} token reaches what ${held} covers and gets 403 naming the scope beyond it`, async () => {
      // Admin last: it revokes the rack the other cases use.
      for (const needed of ["read", "operate", "admin"] as const) {
        for (const [method, path, body] of classes[needed] as readonly Case[]) {
          const url = typeof path === "function" ? path() : path;
          const answer = await call(tokens[held], method, url, body);
          const where = `${held} ${method} ${url}: ${JSON.stringify(answer.body)}`;
          if (RANK[held] >= RANK[needed]) {
            expect([401, 403], where).not.toContain(answer.status);
            expect(answer.status, where).toBeLessThan(500);
          } else {
            expect(answer.status, where).toBe(403);
            expect(answer.headers.get("content-type"), where).toBe("application/problem+json");
            expect(answer.body, where).toMatchObject({
              status: 403,
              scope_needed: needed,
              token_scope: held,
            });
            expect(answer.body.detail, where).toContain(`needs a token of scope ${needed}`);
            expect(answer.headers.get("www-authenticate"), where).toContain(`scope="${needed}"`);
          }
        }
      }
    });
  }

  it("keeps the bootstrap token (api.token) an admin token", async () => {
    expect((await call(API_TOKEN, "GET", "/api/v1/tokens")).status).toBe(200);
    expect((await call(API_TOKEN, "DELETE", "/api/v1/tokens/nobody")).status).toBe(404);
  });
});
