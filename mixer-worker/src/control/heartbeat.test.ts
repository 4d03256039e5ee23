import { describe, expect, it } from "vitest";
import { mixerEnv, testRack, verifyWithPublishedKey, withSettings } from "../../test-helpers/test-rack.ts";
import { clusterKey } from "../registry/cluster-key.ts";
import { issueRackPassport } from "../registry/rack-passport.ts";
import { rackView } from "../registry/rack-view.ts";
import { findRack, updateStatus } from "../registry/racks.ts";

async function enrolled(name: string) {
  const rack = await testRack(name);
  const reply = await rack.enroll();
  if (!reply.ok) throw new Error(reply.error);
  const passport = await verifyWithPublishedKey(reply.passport, reply.cluster_key);
  return { rack, id: passport.rack_id, issuedAt: passport.issued_at };
}

const view = async (id: string) => {
  const row = await findRack(mixerEnv.REGISTRY, "id", id);
  if (!row) throw new Error(`no rack ${id}`);
  return rackView(row, Date.now());
};

describe("heartbeats", () => {
  it("move last_seen and keep the rack's uptime, gear state and counters", async () => {
    const { rack, id } = await enrolled("rack-hb");
    const before = await view(id);
    await new Promise((r) => setTimeout(r, 5));
    const outcome = await rack.heartbeat(id, {
      uptime_ms: 42_000,
      gears: "running",
      counters: { heartbeats_sent: 7 },
    });
    expect(outcome).toEqual({ accepted: true, rackId: id });
    const after = await view(id);
    expect(Date.parse(after.last_seen)).toBeGreaterThan(Date.parse(before.last_seen));
    expect(after.last_heartbeat).toMatchObject({
      uptime_ms: 42_000,
      gears: "running",
      counters: { heartbeats_sent: 7 },
    });
  });

  it("mark a rack stale after three of its own intervals pass in silence, and fresh again on the next one", async () => {
    const { rack, id } = await enrolled("rack-stale");
    await rack.heartbeat(id, { interval_ms: 1 });
    await new Promise((r) => setTimeout(r, 10));
    expect((await view(id)).stale).toBe(true);
    await rack.heartbeat(id, { interval_ms: 60_000 });
    expect((await view(id)).stale).toBe(false);
  });

  it("ignore forgeries, replays and revoked racks", async () => {
    const { rack, id } = await enrolled("rack-forged");
    const other = await testRack("rack-other");
    expect(await rack.heartbeat(id, {}, { signer: other.identity.privateKey })).toMatchObject({
      accepted: false,
      reason: expect.stringContaining(`does not verify against the identity key of rack ${id}`),
    });
    const sentAt = Date.now();
    expect(await rack.heartbeat(id, { sent_at: sentAt })).toMatchObject({ accepted: true });
    expect(await rack.heartbeat(id, { sent_at: sentAt })).toMatchObject({
      accepted: false,
      reason: `replayed or reordered heartbeat of rack ${id}`,
    });
    await updateStatus(mixerEnv.REGISTRY, id, "pending", "revoked", Date.now());
    expect(await rack.heartbeat(id)).toEqual({ accepted: false, reason: `rack ${id} is revoked` });
    expect(await rack.heartbeat("0190a4c2-0000-7000-8000-000000000009")).toMatchObject({ accepted: false });
  });

  it("refuse one sent far ahead of the mixer's clock, so a wrong rack clock cannot make later ones replays", async () => {
    const { rack, id } = await enrolled("rack-rtc-ahead");
    expect(await rack.heartbeat(id, { sent_at: Date.now() + 60 * 60_000 })).toEqual({
      accepted: false,
      reason: expect.stringMatching(
        new RegExp(
          `^the heartbeat of rack ${id} was sent at \\S+ by the rack's clock, \\S+ ahead of the mixer's ` +
            "\\(at most 5m is accepted\\)",
        ),
      ),
    });
    // The clock set right: the next heartbeat counts.
    expect(await rack.heartbeat(id, { sent_at: Date.now() })).toEqual({ accepted: true, rackId: id });
  });

  it("start a new sequence when the rack restarts (a larger boot), and refuse an earlier boot's", async () => {
    const { rack, id } = await enrolled("rack-rebooted");
    // A clock a little ahead (within the bound) is accepted; set right within that boot, it is behind.
    const skewed = Date.now() + 2 * 60_000;
    expect(await rack.heartbeat(id, { boot: 7, sent_at: skewed })).toMatchObject({ accepted: true });
    expect(await rack.heartbeat(id, { boot: 7, sent_at: Date.now() })).toMatchObject({ accepted: false });
    // Restarted: a new boot is a new sequence, whatever the clock says.
    expect(await rack.heartbeat(id, { boot: 8, sent_at: Date.now() })).toEqual({
      accepted: true,
      rackId: id,
    });
    expect(await rack.heartbeat(id, { boot: 7, sent_at: skewed + 1 })).toEqual({
      accepted: false,
      reason: `replayed or reordered heartbeat of rack ${id}`,
    });
  });

  it("hand back the registry's passport when the rack holds an older one, once push_delay has passed", async () => {
    const { rack, id, issuedAt } = await enrolled("rack-behind");
    await updateStatus(mixerEnv.REGISTRY, id, "pending", "active", Date.now());
    await issueRackPassport(mixerEnv, id);
    // Within the default push_delay (1s) the delayed delivery is still due: no resend yet.
    expect(await rack.heartbeat(id, { passport_issued_at: issuedAt })).toEqual({
      accepted: true,
      rackId: id,
    });
    const noDelay = withSettings({ FLUXRIG_ENROLLMENT_PUSH_DELAY: "0s" });
    const outcome = await rack.heartbeat(id, { passport_issued_at: issuedAt }, { env: noDelay });
    if (!outcome.accepted || !outcome.resend) throw new Error(`no resend: ${JSON.stringify(outcome)}`);
    const cluster = await clusterKey(mixerEnv);
    expect((await verifyWithPublishedKey(outcome.resend, cluster.publicRaw)).status).toBe("active");
  });
});
