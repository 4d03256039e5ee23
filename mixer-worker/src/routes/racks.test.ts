import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openSealedSecret, sealSecret } from "../../../shared/passport/index.ts";
import { mixerEnv, testRack, verifyWithPublishedKey } from "../../test-helpers/test-rack.ts";
import { clusterKey } from "../registry/cluster-key.ts";
import { blobBytes } from "../registry/rack-row.ts";
import { encodeSecrets } from "../registry/rack-secrets.ts";
import { findRack } from "../registry/racks.ts";

const TOKEN = "workers-test-token";
const api = (path: string, init: RequestInit = {}) =>
  SELF.fetch(`http://mixer${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...init.headers },
  });
const post = (path: string) => api(path, { method: "POST" });
const putSecret = (id: string, name: string, value: string) =>
  api(`/api/v1/racks/${id}/secrets/${name}`, {
    method: "PUT",
    body: JSON.stringify({ value }),
    headers: { "content-type": "application/json" },
  });

async function enrolled(name: string) {
  const rack = await testRack(name);
  const reply = await rack.enroll();
  if (!reply.ok) throw new Error(reply.error);
  return { rack, id: (await verifyWithPublishedKey(reply.passport, reply.cluster_key)).rack_id };
}

/** The passport the registry holds for a rack now, verified as the rack would. */
async function currentPassport(id: string) {
  const row = await findRack(mixerEnv.REGISTRY, "id", id);
  return verifyWithPublishedKey(blobBytes(row?.passport ?? null), (await clusterKey(mixerEnv)).publicRaw);
}

describe("GET /api/v1/cluster-key", () => {
  it("shows the public key and its fingerprint without a token", async () => {
    const res = await SELF.fetch("http://mixer/api/v1/cluster-key");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    const key = await clusterKey(mixerEnv);
    expect(body).toMatchObject({ algorithm: "Ed25519", fingerprint: key.fingerprint });
    expect(body.public_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(body)).not.toContain(JSON.parse(mixerEnv.MIXER_CLUSTER_KEY as string).d);
  });
});

describe("/api/v1/racks", () => {
  it("lists and shows racks with their status, stale flag and key fingerprint; filters by status", async () => {
    const { rack, id } = await enrolled("rack-list");
    const list = (await (await api("/api/v1/racks")).json()) as { racks: Record<string, unknown>[] };
    expect(list.racks.find((r) => r.id === id)).toMatchObject({
      name: "rack-list",
      status: "pending",
      stale: false,
      ip: "10.0.0.5",
      version: "0.1.0",
      labels: { site: "nyc" },
      key_fingerprint: rack.fingerprint,
      heartbeat_interval: "30s",
      secrets: [],
    });
    const active = (await (await api("/api/v1/racks?status=active")).json()) as { racks: { id: string }[] };
    expect(active.racks.map((r) => r.id)).not.toContain(id);
    const one = await api(`/api/v1/racks/${id}`);
    expect(await one.json()).toMatchObject({ id, name: "rack-list" });
  });

  it("approves a pending rack: active, with a newly signed passport saying so", async () => {
    const { id } = await enrolled("rack-approve");
    const before = await currentPassport(id);
    const res = await post(`/api/v1/racks/${id}/approve`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, status: "active" });
    const after = await currentPassport(id);
    expect(after.status).toBe("active");
    expect(after.issued_at).toBeGreaterThan(before.issued_at);
    // Repeating it changes nothing.
    expect(await (await post(`/api/v1/racks/${id}/approve`)).json()).toMatchObject({ status: "active" });
    expect((await currentPassport(id)).issued_at).toBe(after.issued_at);
  });

  it("suspends, resumes and revokes; a revoked rack cannot be approved (409)", async () => {
    const { id } = await enrolled("rack-lifecycle");
    await post(`/api/v1/racks/${id}/approve`);
    expect(await (await post(`/api/v1/racks/${id}/suspend`)).json()).toMatchObject({ status: "suspended" });
    expect((await currentPassport(id)).status).toBe("suspended");
    expect(await (await post(`/api/v1/racks/${id}/approve`)).json()).toMatchObject({ status: "active" });
    expect(await (await post(`/api/v1/racks/${id}/revoke`)).json()).toMatchObject({ status: "revoked" });
    const conflict = await post(`/api/v1/racks/${id}/approve`);
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get("content-type")).toBe("application/problem+json");
    expect(await conflict.json()).toMatchObject({
      status: 409,
      detail: `rack rack-lifecycle (${id}) is revoked: it cannot be moved to active`,
    });
  });

  it("refuses to seal a secret to a revoked rack (409), and keeps its passport as it was", async () => {
    const { id } = await enrolled("rack-revoked-secret");
    await post(`/api/v1/racks/${id}/revoke`);
    const before = await currentPassport(id);
    const put = await putSecret(id, "db_password", "for-a-stolen-key");
    expect(put.status).toBe(409);
    expect(put.headers.get("content-type")).toBe("application/problem+json");
    expect(await put.json()).toMatchObject({
      status: 409,
      parameter: "id",
      detail: `rack rack-revoked-secret (${id}) is revoked: no secret is sealed to a revoked rack's key`,
    });
    expect(await currentPassport(id)).toEqual(before);
  });

  it("answers bad ids, unknown racks and unknown actions with problems naming the parameter", async () => {
    const bad = await api("/api/v1/racks/not-a-uuid");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      parameter: "id",
      value: "not-a-uuid",
      allowed: "a rack id (a UUID)",
      detail: 'id must be a rack id (a UUID); got "not-a-uuid"',
    });
    const unknown = await post("/api/v1/racks/0190a4c2-0000-7000-8000-00000000dead/approve");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ parameter: "id" });
    const { id } = await enrolled("rack-actions");
    const action = await post(`/api/v1/racks/${id}/destroy`);
    expect(action.status).toBe(400);
    expect(await action.json()).toMatchObject({ parameter: "action" });
    const status = await api("/api/v1/racks?status=gone");
    expect(status.status).toBe(400);
    expect(await status.json()).toMatchObject({ parameter: "status" });
    const unknownParameter = await api("/api/v1/racks?stauts=active");
    expect(await unknownParameter.json()).toMatchObject({ status: 400, parameter: "stauts" });
    expect((await SELF.fetch(`http://mixer/api/v1/racks/${id}`)).status).toBe(401);
  });

  it("seals a secret to the rack at once: the registry and the passport hold ciphertext only", async () => {
    const { rack, id } = await enrolled("rack-secret");
    const put = await putSecret(id, "db_password", "correct-horse-battery");
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ secrets: ["db_password"] });
    const row = await findRack(mixerEnv.REGISTRY, "id", id);
    for (const stored of [blobBytes(row?.secrets ?? null), blobBytes(row?.passport ?? null)]) {
      expect(new TextDecoder("latin1").decode(stored)).not.toContain("correct-horse-battery");
    }
    const passport = await currentPassport(id);
    expect(await openSealedSecret(rack.sealing, "db_password", passport.secrets.db_password as never)).toBe(
      "correct-horse-battery",
    );
    const badName = await api(`/api/v1/racks/${id}/secrets/bad%20name`, { method: "PUT", body: "{}" });
    expect(await badName.json()).toMatchObject({ status: 400, parameter: "name" });
    const badBody = await api(`/api/v1/racks/${id}/secrets/x`, { method: "PUT", body: "nope" });
    expect(await badBody.json()).toMatchObject({ status: 400, parameter: "value" });
    // Read no further than the longest value could take: a huge body is refused, not buffered and parsed.
    const huge = await api(`/api/v1/racks/${id}/secrets/x`, { method: "PUT", body: "x".repeat(600_000) });
    expect(await huge.json()).toMatchObject({ status: 413, parameter: "value" });
    const badDelete = await api(`/api/v1/racks/${id}/secrets/${"n".repeat(129)}`, { method: "DELETE" });
    expect(await badDelete.json()).toMatchObject({ status: 400, parameter: "name" });
    expect((await api(`/api/v1/racks/${id}/secrets/db_password`, { method: "DELETE" })).status).toBe(200);
    expect(Object.keys((await currentPassport(id)).secrets)).toEqual([]);
  });

  it("keeps every secret of concurrent PUTs, and stores a passport that holds them all", async () => {
    const { rack, id } = await enrolled("rack-concurrent");
    // As many writers as changeRack lets through: each round of the race lets one of them land.
    const names = ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"];
    const puts = await Promise.all(names.map((name) => putSecret(id, name, `value-of-${name}`)));
    expect(puts.map((res) => res.status)).toEqual(names.map(() => 200));
    const shown = (await (await api(`/api/v1/racks/${id}`)).json()) as { secrets: string[] };
    expect(shown.secrets).toEqual(expect.arrayContaining(names));
    const passport = await currentPassport(id);
    for (const name of names) {
      expect(await openSealedSecret(rack.sealing, name, passport.secrets[name] as never)).toBe(
        `value-of-${name}`,
      );
    }
  });

  it("refuses a secret that would take the passport past NATS's max_payload (413, naming the limit)", async () => {
    const { id } = await enrolled("rack-big-secrets");
    // 65 536 three-byte characters: about 192 KiB sealed each, so a third passes the 512 KiB limit.
    const big = "€".repeat(65_536);
    expect((await putSecret(id, "big1", big)).status).toBe(200);
    expect((await putSecret(id, "big2", big)).status).toBe(200);
    const before = await currentPassport(id);
    const third = await putSecret(id, "big3", big);
    expect(third.status).toBe(413);
    expect(third.headers.get("content-type")).toBe("application/problem+json");
    expect(await third.json()).toMatchObject({
      status: 413,
      parameter: "value",
      detail: expect.stringMatching(
        /^with big3 the sealed secrets of rack rack-big-secrets \(\S+\) would take \d+ bytes, above the limit of 524288 /,
      ),
    });
    expect(await currentPassport(id)).toEqual(before);
  });

  it("never delivers a bootstrap token: none is set over the API, and a row from before 0003 keeps its own", async () => {
    const { rack, id } = await enrolled("rack-legacy-token");
    const put = await putSecret(id, "rack.bootstrap_token", "workers-bootstrap-token");
    expect(put.status).toBe(400);
    expect(await put.json()).toMatchObject({ parameter: "name" });
    // Before migrations/0003 the rack's token was kept among the mixer's secrets.
    const token = await sealSecret(rack.sealing.publicRaw, "rack.bootstrap_token", "t");
    await mixerEnv.REGISTRY.prepare("UPDATE racks SET secrets = ? WHERE id = ?")
      .bind(encodeSecrets({ "rack.bootstrap_token": token }), id)
      .run();
    expect(await (await putSecret(id, "db_password", "x")).json()).toMatchObject({
      secrets: ["db_password"],
    });
    expect(Object.keys((await currentPassport(id)).secrets)).toEqual(["db_password"]);
  });
});
