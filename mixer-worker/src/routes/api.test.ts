import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { MixerEnv } from "../env.ts";

const TOKEN = "workers-test-token";
const get = (path: string, token?: string) =>
  SELF.fetch(
    `http://mixer${path}`,
    token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
  );

describe("auth and errors", () => {
  it("serves /health without a token, with the mixer id and ingest state", async () => {
    const res = await get("/health");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.mixer_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(body).toHaveProperty("ingest.pending_records", 0);
    expect(body).toHaveProperty("journal.records_stored", 0);
    // No NATS in this project: the bridge reports itself disconnected rather than failing the request, ok
    // within the bus's grace period after it started, degraded (503) naming the bus and why after it.
    expect(body).toHaveProperty("nats.connected", false);
    expect(body.nats).toHaveProperty("down_since");
    if (body.status === "ok") expect(res.status).toBe(200);
    else {
      expect([res.status, body.status]).toEqual([503, "degraded"]);
      expect(body.failing).toEqual([
        { part: "bus", since: expect.any(String), last_error: expect.stringContaining("cannot reach NATS") },
      ]);
    }
    expect(body).toHaveProperty("store.consecutive_failures", 0);
    // Nor a control plane, which lives on the bridge's connection.
    expect(body).toHaveProperty("control", null);
    const again = (await (await get("/health")).json()) as Record<string, unknown>;
    expect(again.mixer_id).toBe(body.mixer_id);
  });

  it("refuses an API call without a token: 401 problem+json with a Bearer challenge", async () => {
    const res = await get("/api/v1/telemetry/files");
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="fluxrig-mixer"');
    expect(await res.json()).toMatchObject({ status: 401, detail: "missing Authorization: Bearer <token>" });
  });

  it("refuses a wrong token and a malformed header", async () => {
    const wrong = await get("/api/v1/telemetry/files", `${TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const basic = await SELF.fetch("http://mixer/api/v1/telemetry/files", {
      headers: { authorization: "Basic abc" },
    });
    expect(basic.status).toBe(401);
    expect(((await basic.json()) as { detail: string }).detail).toContain("not of the form 'Bearer <token>'");
  });

  it("answers an unknown route with a 404 problem naming it", async () => {
    const res = await get("/api/v1/nothing", TOKEN);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ status: 404, detail: "no route for GET /api/v1/nothing" });
  });

  it("answers a wrong method on a route that exists with 405 and the Allow header", async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const del = await SELF.fetch("http://mixer/api/v1/scenarios", { method: "DELETE", headers });
    expect(del.status).toBe(405);
    expect(del.headers.get("allow")).toBe("GET, HEAD, POST");
    expect(await del.json()).toMatchObject({ status: 405, title: "Method Not Allowed" });
    const approve = await SELF.fetch("http://mixer/api/v1/racks/some-rack/approve", { headers });
    expect(approve.status).toBe(405);
    expect(approve.headers.get("allow")).toBe("POST");
  });
});

describe("GET /api/v1/telemetry/files", () => {
  it("lists stored objects by prefix and downloads one", async () => {
    const bucket = (env as unknown as MixerEnv).TELEMETRY;
    await bucket.put("telemetry/logs/2026/11/27/10/logs_A.parquet", new Uint8Array([1, 2, 3]));
    await bucket.put("telemetry/metrics/2026/11/27/10/metrics_A.parquet", new Uint8Array([4]));
    const list = await get("/api/v1/telemetry/files?prefix=telemetry/logs/", TOKEN);
    expect(await list.json()).toMatchObject({
      files: [{ key: "telemetry/logs/2026/11/27/10/logs_A.parquet", size: 3 }],
      next: null,
    });
    const file = await get("/api/v1/telemetry/files/telemetry/logs/2026/11/27/10/logs_A.parquet", TOKEN);
    expect(file.headers.get("content-type")).toBe("application/vnd.apache.parquet");
    expect([...new Uint8Array(await file.arrayBuffer())]).toEqual([1, 2, 3]);
  });

  it("refuses a prefix or key outside the telemetry tree, naming the parameter", async () => {
    const res = await get("/api/v1/telemetry/files?prefix=../secrets", TOKEN);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ parameter: "prefix" });
    const key = await get("/api/v1/telemetry/files/registry.db", TOKEN);
    expect(key.status).toBe(400);
    expect(await key.json()).toMatchObject({ parameter: "key" });
    const missing = await get("/api/v1/telemetry/files/telemetry/logs/none.parquet", TOKEN);
    expect(missing.status).toBe(404);
    const malformed = await get("/api/v1/telemetry/files/telemetry/%zz", TOKEN);
    expect(malformed.status).toBe(400);
  });

  it("pages with a next token bound to its prefix", async () => {
    const bucket = (env as unknown as MixerEnv).TELEMETRY;
    const prefix = "telemetry/logs/2026/11/28/";
    await Promise.all(Array.from({ length: 1_001 }, (_, i) => bucket.put(`${prefix}${i}.parquet`, "x")));
    const first = (await (await get(`/api/v1/telemetry/files?prefix=${prefix}`, TOKEN)).json()) as {
      files: unknown[];
      next: string;
    };
    expect(first.files).toHaveLength(1_000);
    const query = (p: string) =>
      `/api/v1/telemetry/files?${new URLSearchParams({ prefix: p, cursor: first.next })}`;
    const second = (await (await get(query(prefix), TOKEN)).json()) as { files: unknown[]; next: null };
    expect(second).toMatchObject({ files: [expect.anything()], next: null });
    expect(await (await get(query("telemetry/"), TOKEN)).json()).toMatchObject({
      status: 400,
      parameter: "cursor",
    });
  });

  it("refuses keys past R2's 1024-byte limit and cursors it did not make, naming the parameter", async () => {
    const long = await get(`/api/v1/telemetry/files/telemetry/logs/${"k".repeat(2_000)}`, TOKEN);
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({
      parameter: "key",
      value: expect.stringMatching(/… \(2015 characters\)$/),
    });
    const prefix = await get(`/api/v1/telemetry/files?prefix=telemetry/${"p".repeat(1_100)}`, TOKEN);
    expect(await prefix.json()).toMatchObject({ status: 400, parameter: "prefix" });
    const control = await get("/api/v1/telemetry/files/telemetry/a%0Ab.parquet", TOKEN);
    expect(await control.json()).toMatchObject({ status: 400, parameter: "key" });
    const cursor = await get("/api/v1/telemetry/files?cursor=bm90LWEtY3Vyc29y", TOKEN);
    expect(await cursor.json()).toMatchObject({ status: 400, parameter: "cursor" });
  });
});
