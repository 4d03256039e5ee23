import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN } from "../../test-helpers/telemetry-api.ts";
import { testRack, verifyWithPublishedKey } from "../../test-helpers/test-rack.ts";

const BASE = "http://mixer";

/** A browser without a cookie jar: the session is what we pass. */
async function get(path: string, cookie?: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, {
    redirect: "manual",
    headers: { ...(cookie ? { cookie } : {}), ...headers },
  });
}

async function post(
  path: string,
  cookie: string | undefined,
  form: Record<string, string>,
): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(form).toString(),
  });
}

/** Signs in with `token`; the session cookie as a Cookie header. */
async function signIn(token: string): Promise<string> {
  const answer = await post("/signin", undefined, { token, next: "/" });
  expect(answer.status).toBe(303);
  const setCookie = answer.headers.get("set-cookie") ?? "";
  return setCookie.split(";")[0] as string;
}

/** The CSRF token a page's forms carry. */
async function csrfOf(cookie: string): Promise<string> {
  const html = await (await get("/", cookie)).text();
  return /name="csrf" value="([^"]+)"/.exec(html)?.[1] as string;
}

async function makeToken(name: string, scope: string): Promise<string> {
  const made = await SELF.fetch(`${BASE}/api/v1/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name, scope }),
  });
  return ((await made.json()) as { token: string }).token;
}

let rackId = "";

beforeAll(async () => {
  const reply = await (await testRack("console-rack")).enroll();
  if (!reply.ok) throw new Error(reply.error);
  rackId = (await verifyWithPublishedKey(reply.passport, reply.cluster_key)).rack_id;
});

describe("console sign-in", () => {
  it("sends a visitor without a session to sign-in, and back to the page asked for afterwards", async () => {
    const answer = await get("/logs?level=error");
    expect(answer.status).toBe(303);
    expect(answer.headers.get("location")).toBe("/signin?next=%2Flogs");
    const form = await (await get("/signin?next=%2Flogs")).text();
    expect(form).toContain('name="next" value="/logs"');
    expect(form).toContain('type="password" name="token"');
  });

  it("exchanges a valid token for an HttpOnly, Secure, SameSite=Strict cookie that holds no token", async () => {
    const answer = await post("/signin", undefined, { token: API_TOKEN, next: "/metrics" });
    expect(answer.status).toBe(303);
    expect(answer.headers.get("location")).toBe("/metrics");
    const setCookie = answer.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^fluxrig_session=/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain(API_TOKEN);
  });

  it("refuses a wrong token with 401 and the form again, and never redirects off the site", async () => {
    const wrong = await post("/signin", undefined, { token: "not-a-token", next: "/" });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("That token is not valid");
    const offsite = await post("/signin", undefined, { token: API_TOKEN, next: "//evil.example/x" });
    expect(offsite.headers.get("location")).toBe("/");
  });

  it("refuses a forged, tampered or foreign cookie on pages (to sign-in) and on the API (401)", async () => {
    const cookie = await signIn(API_TOKEN);
    const value = cookie.slice("fluxrig_session=".length);
    const tampered = `${value.slice(0, 10)}${value[10] === "A" ? "B" : "A"}${value.slice(11)}`;
    for (const forged of [
      "fluxrig_session=forged",
      `fluxrig_session=${tampered}`,
      "fluxrig_session=e30.AAAA",
    ]) {
      const page = await get("/", forged);
      expect(page.status).toBe(303);
      expect(page.headers.get("location")).toMatch(/^\/signin/);
      expect((await get("/api/v1/racks", forged)).status).toBe(401);
    }
  });

  it("ends the session of a token that is revoked", async () => {
    const token = await makeToken("soon-revoked", "read");
    const cookie = await signIn(token);
    expect((await get("/", cookie)).status).toBe(200);
    await SELF.fetch(`${BASE}/api/v1/tokens/soon-revoked`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect((await get("/", cookie)).status).toBe(303);
  });
});

describe("console pages and actions", () => {
  it("renders the fleet with the pending rack and, for an admin, its actions; headers keep the page to itself", async () => {
    const cookie = await signIn(API_TOKEN);
    const page = await get("/", cookie);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("cache-control")).toBe("no-store");
    const html = await page.text();
    expect(html).toContain('data-rack="console-rack" data-status="pending"');
    for (const action of ["approve", "suspend", "revoke"]) expect(html).toContain(`data-action="${action}"`);
    // The API's own answers do not get the console's headers.
    const api = await get("/api/v1/racks", cookie);
    expect(api.status).toBe(200);
    expect(api.headers.get("content-security-policy")).toBeNull();
  });

  it("a read session sees the rack but no action, and posting one anyway is refused by the API's scope", async () => {
    const cookie = await signIn(await makeToken("viewer", "read"));
    const html = await (await get("/", cookie)).text();
    expect(html).toContain('data-rack="console-rack"');
    expect(html).not.toContain("data-action=");
    const refused = await post(`/racks/${rackId}/approve`, cookie, { csrf: await csrfOf(cookie) });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("needs a token of scope operate");
  });

  it("an action needs the session's CSRF token; with it, approving turns the rack active", async () => {
    const cookie = await signIn(await makeToken("operator", "operate"));
    expect((await post(`/racks/${rackId}/approve`, cookie, { csrf: "made-up-by-another-site" })).status).toBe(
      403,
    );
    expect((await post(`/racks/${rackId}/approve`, cookie, {})).status).toBe(403);
    // The API itself, with the cookie but without the CSRF header, refuses too.
    const api = await SELF.fetch(`${BASE}/api/v1/racks/${rackId}/approve`, {
      method: "POST",
      headers: { cookie },
    });
    expect(api.status).toBe(403);
    const done = await post(`/racks/${rackId}/approve`, cookie, { csrf: await csrfOf(cookie) });
    expect(done.status).toBe(303);
    const html = await (await get("/", cookie)).text();
    expect(html).toContain('data-rack="console-rack" data-status="active"');
  });

  it("answers an empty store with a clear message on every data page, never a blank page", async () => {
    const cookie = await signIn(API_TOKEN);
    const pages: [string, RegExp][] = [
      ["/logs", /No log lines in this window/],
      ["/traces", /No traces in this window/],
      ["/metrics", /No metric points in this window/],
      ["/scenarios", /No scenario imported yet/],
      ["/flux", /Paste a flux id/],
      [`/racks/${rackId}`, /No log lines from this rack/],
      [`/racks/${rackId}`, /Heartbeats, last 6 h<\/dt><dd[^>]*><span class="muted">none in the last 6 hours/],
      ["/traces/0af7651916cd43dd8448eb211c80319c", /404 Not Found/],
      ["/flux/0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b", /404 Not Found/],
      ["/logs?since=yesterday", /400/],
    ];
    for (const [path, expected] of pages) {
      const page = await get(path, cookie);
      expect(page.status, path).toBe(200);
      expect(await page.text(), path).toMatch(expected);
    }
  });

  it("serves its assets from the Worker itself: the client script, the stylesheet and uPlot", async () => {
    for (const [file, type] of [
      ["console.js", "text/javascript"],
      ["console.css", "text/css"],
      ["uplot.js", "text/javascript"],
      ["uplot.css", "text/css"],
    ]) {
      const asset = await get(`/assets/${file}`);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get("content-type"), file).toContain(type);
      expect((await asset.text()).length, file).toBeGreaterThan(500);
    }
    expect((await get("/assets/other.js")).status).toBe(404);
  });
});
