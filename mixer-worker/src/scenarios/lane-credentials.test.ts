import { SELF } from "cloudflare:test";
import { decode } from "@nats-io/jwt";
import { createUser } from "@nats-io/nkeys";
import { describe, expect, it } from "vitest";
import type { PassportPayload } from "../../../shared/passport/index.ts";
import { mixerEnv, testRack, verifyWithPublishedKey } from "../../test-helpers/test-rack.ts";
import { blobBytes } from "../registry/rack-row.ts";
import { findRack } from "../registry/racks.ts";

const api = (path: string, init: RequestInit = {}) =>
  SELF.fetch(`http://mixer${path}`, {
    ...init,
    headers: { authorization: "Bearer workers-test-token", ...init.headers },
  });

/** An enrolled rack with its own bus user key, approved unless `pending`. */
async function busRack(name: string, options: { pending?: boolean } = {}) {
  const rack = await testRack(name);
  const reply = await rack.enroll({ claims: { nats_user_key: createUser().getPublicKey() } });
  if (!reply.ok) throw new Error(reply.error);
  const { rack_id: id } = await verifyWithPublishedKey(reply.passport, reply.cluster_key);
  if (!options.pending)
    expect((await api(`/api/v1/racks/${id}/approve`, { method: "POST" })).status).toBe(200);
  return { id, clusterKey: reply.cluster_key };
}

/** The passport on a rack's row, verified, and what its active bus JWT allows. */
async function busGrant(rack: { id: string; clusterKey: Uint8Array }) {
  const row = await findRack(mixerEnv.REGISTRY, "id", rack.id);
  const passport: PassportPayload = await verifyWithPublishedKey(
    blobBytes(row?.passport ?? null),
    rack.clusterKey,
  );
  const jwt = passport.bus?.jwt;
  if (!jwt) throw new Error(`rack ${rack.id}'s passport carries no active bus JWT`);
  const { nats } = decode<{ pub?: { allow?: string[] } }>(jwt);
  return { issuedAt: passport.issued_at, pub: nats.pub?.allow ?? [] };
}

/** Edge generates and sends across a guaranteed lane to the `alias` rack (core), which logs. */
function crossing(name: string, version: string, edge: string, core: string, alias = "core"): string {
  return `meta: { name: ${name}, version: "${version}" }
racks:
  edge: { name: ${edge} }
  ${alias}: { name: ${core} }
gears:
  gen: { type: generator, rack: edge, config: { rate: 1 } }
  sink: { type: log-sink, rack: ${alias}, config: {} }
wires:
  - { from: gen.out, to: ${alias}.sink.in }
`;
}

async function importAndActivate(yaml: string, name: string): Promise<void> {
  const imported = await api("/api/v1/scenarios", {
    method: "POST",
    body: yaml,
    headers: { "content-type": "application/yaml" },
  });
  expect(imported.status).toBe(201);
  expect((await api(`/api/v1/scenarios/${name}/activate?wait=false`, { method: "POST" })).status).toBe(200);
}

describe("bus JWTs cut for the scenario part", () => {
  it("re-issues an active rack's passport when activation changes its lanes: it may use those lanes only", async () => {
    const edge = await busRack("rack-lanes-edge");
    const core = await busRack("rack-lanes-core");
    const other = await busRack("rack-lanes-other");
    // Before any scenario: no business subject at all.
    expect((await busGrant(edge)).pub.some((s) => s.startsWith("flux.msg."))).toBe(false);
    const before = { edge: await busGrant(edge), other: await busGrant(other) };

    await importAndActivate(crossing("lanes-a", "1", "rack-lanes-edge", "rack-lanes-core"), "lanes-a");
    const lane = "flux.msg.core.sink.in";
    const durable = "fluxmsg-core-sink-in";
    const edgeGrant = await busGrant(edge);
    const coreGrant = await busGrant(core);
    expect(edgeGrant.issuedAt).toBeGreaterThan(before.edge.issuedAt);
    // The sender publishes to the lane and reads no durable; the receiver pulls its durable with its filter.
    expect(edgeGrant.pub).toContain(lane);
    expect(edgeGrant.pub.some((s) => s.includes("CONSUMER"))).toBe(false);
    expect(coreGrant.pub).not.toContain(lane);
    expect(coreGrant.pub).toEqual(
      expect.arrayContaining([
        `$JS.API.CONSUMER.CREATE.flux-msg.${durable}.${lane}`,
        `$JS.API.CONSUMER.MSG.NEXT.flux-msg.${durable}`,
        `$JS.ACK.flux-msg.${durable}.>`,
      ]),
    );
    for (const grant of [edgeGrant, coreGrant]) expect(grant.pub).not.toContain("flux.msg.>");
    // A rack the scenario does not name keeps the passport it had.
    expect((await busGrant(other)).issuedAt).toBe(before.other.issuedAt);

    // The same lanes again (a new version that changes no wire): no new passport, no reconnect.
    await importAndActivate(
      crossing("lanes-a", "2", "rack-lanes-edge", "rack-lanes-core").replace("rate: 1", "rate: 2"),
      "lanes-a",
    );
    expect((await busGrant(edge)).issuedAt).toBe(edgeGrant.issuedAt);
  });

  it("a rack approved after the activation gets a passport that already allows its part's lanes", async () => {
    const edge = await busRack("rack-late-edge");
    const core = await busRack("rack-late-core", { pending: true });
    await importAndActivate(
      crossing("lanes-late", "1", "rack-late-edge", "rack-late-core", "back"),
      "lanes-late",
    );
    expect((await api(`/api/v1/racks/${core.id}/approve`, { method: "POST" })).status).toBe(200);
    expect((await busGrant(core)).pub).toContain(
      "$JS.API.CONSUMER.CREATE.flux-msg.fluxmsg-back-sink-in.flux.msg.back.sink.in",
    );
    expect((await busGrant(edge)).pub).toContain("flux.msg.back.sink.in");
  });
});
