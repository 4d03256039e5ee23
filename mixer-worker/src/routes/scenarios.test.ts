import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openScenarioDelivery } from "../../../shared/control/scenario-delivery.ts";
import { importPublicKey, SIGNING_ALGORITHM } from "../../../shared/passport/index.ts";
import { mixerEnv, testRack, verifyWithPublishedKey, withSettings } from "../../test-helpers/test-rack.ts";
import { clusterKey } from "../registry/cluster-key.ts";
import { blobBytes } from "../registry/rack-row.ts";
import { findRack } from "../registry/racks.ts";

const TOKEN = "workers-test-token";
const api = (path: string, init: RequestInit = {}) =>
  SELF.fetch(`http://mixer${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...init.headers },
  });
const importYaml = (yaml: string, file = "flow.yaml") =>
  api("/api/v1/scenarios", {
    method: "POST",
    body: yaml,
    headers: { "content-type": "application/yaml", "x-fluxrig-file": file },
  });

/** A one-rack flow on the rack named `rack`. */
function flow(name: string, version: string, rack: string, rate = 10): string {
  return `meta:
  name: ${name}
  version: ${version}
racks:
  edge: { name: ${rack} }
gears:
  gen:
    type: generator
    rack: edge
    config: { rate: ${rate}, count: 5 }
  sink:
    type: log-sink
    rack: edge
    config: {}
wires:
  - { from: gen.out, to: sink.in }
`;
}

async function activeRack(name: string) {
  const rack = await testRack(name);
  const reply = await rack.enroll();
  if (!reply.ok) throw new Error(reply.error);
  const id = (await verifyWithPublishedKey(reply.passport, reply.cluster_key)).rack_id;
  expect((await api(`/api/v1/racks/${id}/approve`, { method: "POST" })).status).toBe(200);
  return { rack, id };
}

describe("/api/v1/scenarios", () => {
  it("imports a scenario by name, version and content hash; the same file again changes nothing", async () => {
    const created = await importYaml(flow("demo-import", "1", "rack-x"));
    expect(created.status).toBe(201);
    const body = (await created.json()) as { name: string; version: string; hash: string; outcome: string };
    expect(body).toMatchObject({ name: "demo-import", version: "1", outcome: "created", gears: 2, wires: 1 });
    expect(body.hash).toMatch(/^[0-9a-f]{64}$/);
    const again = await importYaml(flow("demo-import", "1", "rack-x"));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ outcome: "unchanged", hash: body.hash });

    const conflict = await importYaml(flow("demo-import", "1", "rack-x", 20));
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { detail: string }).detail).toContain("raise meta.version");

    expect((await importYaml(flow("demo-import", "2", "rack-x", 20))).status).toBe(201);
    const shown = (await (await api("/api/v1/scenarios/demo-import")).json()) as {
      version: string;
      versions: { version: string }[];
      yaml: string;
    };
    expect(shown.version).toBe("2");
    expect(shown.versions.map((v) => v.version).sort()).toEqual(["1", "2"]);
    expect(shown.yaml).toContain("rate: 20");
    const listed = (await (await api("/api/v1/scenarios")).json()) as { scenarios: { name: string }[] };
    expect(listed.scenarios.filter((s) => s.name === "demo-import")).toHaveLength(2);
  });

  it("refuses a broken file with every problem at its line and path, and names bad parameters", async () => {
    const broken = flow("demo-broken", "1", "rack-x")
      .replace("rate: 10", 'rate: "fast"')
      .replace("log-sink", "log-snk");
    const res = await importYaml(broken, "broken.yaml");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as { problems: { line: number; path: string }[]; detail: string };
    expect(problem.problems.map((p) => `${p.line} ${p.path}`)).toEqual(
      expect.arrayContaining(["10 gears.gen.config.rate", "12 gears.sink.type"]),
    );
    expect(problem.detail).toContain("broken.yaml:10:");

    expect((await api("/api/v1/scenarios/no-such")).status).toBe(404);
    expect((await api("/api/v1/scenarios/bad%20name")).status).toBe(400);
    expect((await api("/api/v1/scenarios/demo-import?version=9")).status).toBe(404);
    const unknownParameter = await api("/api/v1/scenarios/demo-import?verison=1");
    expect(unknownParameter.status).toBe(400);
    expect(((await unknownParameter.json()) as { parameter: string }).parameter).toBe("verison");
    const huge = await importYaml(`# ${"x".repeat(300_000)}\n`);
    expect(huge.status).toBe(413);
  });

  it("activation gives the rack its part signed by the cluster key, and converges once the rack reports it", async () => {
    const { rack, id } = await activeRack("rack-scenario-a");
    expect((await importYaml(flow("demo-activate", "1", "rack-scenario-a"))).status).toBe(201);
    const res = await api("/api/v1/scenarios/demo-activate/activate?wait=false", { method: "POST" });
    expect(res.status).toBe(200);
    const activation = (await res.json()) as {
      hash: string;
      converged: boolean;
      racks: { id: string; state: string }[];
    };
    expect(activation.converged).toBe(false);
    expect(activation.racks).toEqual([expect.objectContaining({ id, state: "starting" })]);

    // The part on the rack's row is what the bridge delivers: signed, addressed to this rack, its gears only.
    const row = await findRack(mixerEnv.REGISTRY, "id", id);
    const key = await clusterKey(mixerEnv);
    const pinned = {
      key: await importPublicKey(key.publicRaw, SIGNING_ALGORITHM),
      fingerprint: key.fingerprint,
    };
    const delivery = await openScenarioDelivery(blobBytes(row?.scenario_part ?? null), pinned, id);
    expect(delivery.part.scenario).toMatchObject({ name: "demo-activate", hash: activation.hash });
    expect(delivery.part.gears.map((g) => g.name).sort()).toEqual(["gen", "sink"]);
    await expect(
      openScenarioDelivery(blobBytes(row?.scenario_part ?? null), pinned, crypto.randomUUID()),
    ).rejects.toThrow(/addressed to rack/);

    // A heartbeat that reports another hash gets the part again (once a delayed push is past); one that
    // reports it running converges.
    const stale = await rack.heartbeat(
      id,
      { scenario: { name: "demo-activate", hash: "0".repeat(64), state: "running" } },
      { env: withSettings({ FLUXRIG_ENROLLMENT_PUSH_DELAY: "0s" }) },
    );
    expect(stale).toMatchObject({ accepted: true, resendScenario: expect.any(Uint8Array) });
    await rack.heartbeat(id, {
      scenario: { name: "demo-activate", hash: activation.hash, state: "running" },
    });
    const status = (await (await api("/api/v1/scenarios/demo-activate/status")).json()) as {
      converged: boolean;
      racks: { state: string }[];
    };
    expect(status).toMatchObject({ converged: true, racks: [{ state: "converged" }] });

    await rack.heartbeat(id, {
      scenario: {
        name: "demo-activate",
        hash: activation.hash,
        state: "refused",
        error: "port 9100 is taken",
      },
    });
    const refused = (await (await api("/api/v1/scenarios/demo-activate/status")).json()) as {
      racks: { state: string; reason: string }[];
    };
    expect(refused.racks[0]).toMatchObject({ state: "refused", reason: "port 9100 is taken" });
  });

  it("reports a target that is not enrolled and one that is pending, without waiting for them", async () => {
    const pending = await testRack("rack-scenario-pending");
    const reply = await pending.enroll();
    if (!reply.ok) throw new Error(reply.error);
    const yaml = `meta: { name: demo-targets, version: "1" }
racks:
  a: { name: rack-scenario-pending }
  b: { name: rack-nowhere }
gears:
  g1: { type: generator, rack: a, config: { rate: 1 } }
  s1: { type: log-sink, rack: a, config: {} }
  g2: { type: generator, rack: b, config: { rate: 1 } }
  s2: { type: log-sink, rack: b, config: {} }
wires:
  - { from: g1.out, to: s1.in }
  - { from: g2.out, to: s2.in }
`;
    expect((await importYaml(yaml)).status).toBe(201);
    const res = (await (await api("/api/v1/scenarios/demo-targets/activate", { method: "POST" })).json()) as {
      converged: boolean;
      settled: boolean;
      racks: { name: string; state: string; reason: string }[];
    };
    // Waiting cannot change either: the answer comes at once, settled.
    expect(res).toMatchObject({ converged: false, settled: true });
    expect(res.racks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "rack-scenario-pending", state: "not_active" }),
        expect.objectContaining({ name: "rack-nowhere", state: "not_enrolled" }),
      ]),
    );
  });
});
