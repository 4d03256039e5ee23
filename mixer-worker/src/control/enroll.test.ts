import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { decodeEnrollReply, signEnrollRequest } from "../../../shared/control/enrollment.ts";
import { openSealedSecret, sealSecret, signEnvelope } from "../../../shared/passport/index.ts";
import {
  BOOTSTRAP_TOKEN,
  mixerEnv,
  sendEnrollment,
  testRack,
  verifyWithPublishedKey,
  withSettings,
} from "../../test-helpers/test-rack.ts";
import { decodeSecrets } from "../registry/rack-secrets.ts";
import { findRack } from "../registry/racks.ts";
import { enrollRack } from "./enroll.ts";

async function publishedClusterKey() {
  const res = await SELF.fetch("http://mixer/api/v1/cluster-key");
  expect(res.status).toBe(200);
  return (await res.json()) as {
    mixer_id: string;
    algorithm: string;
    public_key: string;
    fingerprint: string;
  };
}

describe("enrollment", () => {
  it("records a new rack as pending with a UUID v7 and answers with a passport the cluster key signed", async () => {
    const rack = await testRack("rack-nyc-01");
    const seal = (name: string, value: string) => sealSecret(rack.sealing.publicRaw, name, value);
    // The rack's own secrets, and (as an older agent sent it) its bootstrap token, which goes nowhere.
    const secrets = {
      hsm_pin: await seal("hsm_pin", "4711"),
      "rack.bootstrap_token": await seal("rack.bootstrap_token", BOOTSTRAP_TOKEN),
    };
    const reply = await rack.enroll({ claims: { secrets } });
    if (!reply.ok) throw new Error(reply.error);
    const published = await publishedClusterKey();
    expect(reply.mixer_id).toBe(published.mixer_id);
    const passport = await verifyWithPublishedKey(reply.passport, reply.cluster_key);
    expect(passport).toMatchObject({
      version: 1,
      name: "rack-nyc-01",
      status: "pending",
      mixer_id: published.mixer_id,
      rack_key: rack.fingerprint,
      config: { "rack.max_hops": 64 },
    });
    expect(passport.rack_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The key in the reply is the one the mixer publishes for pinning.
    expect(published.fingerprint).toMatch(/^SHA256:[0-9a-f]{64}$/);
    expect(Object.keys(passport.secrets)).toEqual(["hsm_pin"]);
    const row = await findRack(mixerEnv.REGISTRY, "id", passport.rack_id);
    expect(Object.keys(decodeSecrets(row?.rack_secrets ?? null))).toEqual(["hsm_pin"]);
  });

  it("admits a new rack as active when enrollment.auto_adopt is true", async () => {
    const rack = await testRack("rack-auto");
    const reply = await rack.enroll({ env: withSettings({ FLUXRIG_ENROLLMENT_AUTO_ADOPT: "true" }) });
    if (!reply.ok) throw new Error(reply.error);
    expect((await verifyWithPublishedKey(reply.passport, reply.cluster_key)).status).toBe("active");
  });

  it("gives a rack enrolling again with the same key the same id, and keeps its status", async () => {
    const rack = await testRack("rack-again");
    const first = await rack.enroll();
    const again = await rack.enroll({ claims: { ip: "10.0.0.9" } });
    if (!first.ok || !again.ok) throw new Error("refused");
    const [a, b] = await Promise.all([
      verifyWithPublishedKey(first.passport, first.cluster_key),
      verifyWithPublishedKey(again.passport, again.cluster_key),
    ]);
    expect(b.rack_id).toBe(a.rack_id);
    expect(b.issued_at).toBeGreaterThan(a.issued_at);
    expect((await findRack(mixerEnv.REGISTRY, "id", a.rack_id))?.ip).toBe("10.0.0.9");
  });

  it("refuses a revoked rack's key for good: it cannot rewrite its registry row by enrolling again", async () => {
    const rack = await testRack("rack-revoked");
    const first = await rack.enroll();
    if (!first.ok) throw new Error("refused");
    const { rack_id } = await verifyWithPublishedKey(first.passport, first.cluster_key);
    const revoke = await SELF.fetch(`http://mixer/api/v1/racks/${rack_id}/revoke`, {
      method: "POST",
      headers: { authorization: "Bearer workers-test-token" },
    });
    expect(revoke.status).toBe(200);
    const again = await rack.enroll({ claims: { ip: "10.9.9.9" } });
    expect(again).toMatchObject({
      ok: false,
      error: expect.stringContaining("is revoked and cannot enroll again"),
    });
    expect((await findRack(mixerEnv.REGISTRY, "id", rack_id))?.ip).not.toBe("10.9.9.9");
  });

  it("refuses a name already bound to another rack's key, naming the rack that holds it", async () => {
    const owner = await testRack("rack-owned");
    const ownerReply = await owner.enroll();
    if (!ownerReply.ok) throw new Error(ownerReply.error);
    const ownerId = (await verifyWithPublishedKey(ownerReply.passport, ownerReply.cluster_key)).rack_id;
    const thief = await testRack("rack-owned");
    const reply = await thief.enroll();
    expect(reply).toEqual({
      ok: false,
      error: expect.stringContaining(
        `name "rack-owned" is already enrolled by rack ${ownerId} with another identity key`,
      ),
    });
  });

  it("refuses a wrong bootstrap token, and enrolls nothing when the mixer has none", async () => {
    const rack = await testRack("rack-token");
    expect(await rack.enroll({ token: `${BOOTSTRAP_TOKEN}x` })).toEqual({
      ok: false,
      error:
        "bootstrap token refused: rack.bootstrap_token does not match the mixer's enrollment.bootstrap_token",
    });
    const closed = withSettings({});
    delete closed.FLUXRIG_ENROLLMENT_BOOTSTRAP_TOKEN;
    expect(await rack.enroll({ env: closed })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^enrollment is closed/),
    });
    expect(await findRack(mixerEnv.REGISTRY, "name", "rack-token")).toBeNull();
  });

  it("refuses a request not signed by the identity key it presents (no enrolling with someone else's key)", async () => {
    const victim = await testRack("rack-victim");
    const attacker = await testRack("rack-victim");
    const valid = await victim.enroll();
    if (!valid.ok) throw new Error(valid.error);
    // The attacker copies the victim's public key into a request it signs itself.
    const forged = await signEnrollRequest(
      {
        name: "rack-victim",
        ip: "6.6.6.6",
        agent_version: "0.1.0",
        sealing_key: attacker.sealing.publicRaw,
        labels: {},
        heartbeat_interval_ms: 30_000,
        config: {},
        secrets: {},
      },
      { ...attacker.identity, publicRaw: victim.identity.publicRaw },
      BOOTSTRAP_TOKEN,
    );
    const reply = decodeEnrollReply((await enrollRack(mixerEnv, forged)).reply);
    expect(reply).toEqual({
      ok: false,
      error: expect.stringContaining("does not verify against the identity key it presents"),
    });
    expect((await findRack(mixerEnv.REGISTRY, "name", "rack-victim"))?.ip).toBe("10.0.0.5");
  });

  it("refuses garbage and another version with a message, never a crash", async () => {
    expect(decodeEnrollReply((await enrollRack(mixerEnv, new Uint8Array([1, 2, 3]))).reply)).toMatchObject({
      ok: false,
      error: expect.stringContaining("the enroll envelope is not valid CBOR (truncated or corrupted)"),
    });
    const rack = await testRack("rack-future");
    const future = await signEnvelope("enroll", { version: 9 }, rack.identity.privateKey);
    expect(decodeEnrollReply((await enrollRack(mixerEnv, future)).reply)).toEqual({
      ok: false,
      error: "enrollment version 9 is not supported (this mixer speaks version 2)",
    });
  });

  it("lets a secret set on the mixer win over the rack's own of that name, through re-enrollments", async () => {
    const rack = await testRack("rack-shadowed");
    const own = async (value: string) => ({
      db_password: await sealSecret(rack.sealing.publicRaw, "db_password", value),
    });
    const first = await rack.enroll({ claims: { secrets: await own("from-the-rack") } });
    if (!first.ok) throw new Error(first.error);
    const id = (await verifyWithPublishedKey(first.passport, first.cluster_key)).rack_id;
    const put = await SELF.fetch(`http://mixer/api/v1/racks/${id}/secrets/db_password`, {
      method: "PUT",
      body: JSON.stringify({ value: "from-the-mixer" }),
      headers: { authorization: "Bearer workers-test-token", "content-type": "application/json" },
    });
    expect(put.status).toBe(200);
    const again = await rack.enroll({ claims: { secrets: await own("from-the-rack-again") } });
    if (!again.ok) throw new Error(again.error);
    const passport = await verifyWithPublishedKey(again.passport, again.cluster_key);
    expect(await openSealedSecret(rack.sealing, "db_password", passport.secrets.db_password as never)).toBe(
      "from-the-mixer",
    );
  });

  it("refuses a replayed enrollment, so an old request cannot revert the rack's ip, config or keys", async () => {
    const rack = await testRack("rack-replayed");
    const old = await rack.request({ claims: { ip: "10.0.0.1", config: { "rack.max_hops": 1 } } });
    expect(await sendEnrollment(old)).toMatchObject({ ok: true });
    const current = await rack.enroll({ claims: { ip: "10.0.0.2" } });
    if (!current.ok) throw new Error(current.error);
    const id = (await verifyWithPublishedKey(current.passport, current.cluster_key)).rack_id;
    expect(await sendEnrollment(old)).toEqual({
      ok: false,
      error: expect.stringMatching(
        new RegExp(
          `^enrollment of rack ${id} sent at \\S+ by the rack's clock is not after the last one accepted`,
        ),
      ),
    });
    const row = await findRack(mixerEnv.REGISTRY, "id", id);
    expect(row).toMatchObject({ ip: "10.0.0.2", config: JSON.stringify({ "rack.max_hops": 64 }) });
  });

  it("refuses an enrollment sent far ahead of the mixer's clock, and does not let it block later ones", async () => {
    const rack = await testRack("rack-future-clock");
    const ahead = await rack.enroll({ sentAt: Date.now() + 60 * 60_000 });
    expect(ahead).toEqual({
      ok: false,
      error: expect.stringMatching(
        /^the enrollment was sent at \S+ by the rack's clock, \S+ ahead of the mixer's \(at most 5m is accepted\)/,
      ),
    });
    expect(await rack.enroll({ sentAt: Date.now() })).toMatchObject({ ok: true });
  });
});
