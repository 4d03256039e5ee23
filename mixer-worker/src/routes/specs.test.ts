import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { assignedPart, testRack, verifyWithPublishedKey } from "../../test-helpers/test-rack.ts";

const TOKEN = "workers-test-token";
const api = (path: string, init: RequestInit = {}) =>
  SELF.fetch(`http://mixer${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...init.headers },
  });
const post = (path: string, yaml: string, file: string) =>
  api(path, {
    method: "POST",
    body: yaml,
    headers: { "content-type": "application/yaml", "x-fluxrig-file": file },
  });

/** A small ISO spec: the PAN masked and promoted. */
function spec(id: string, version: string, pan = "mask: pan, promote: true"): string {
  return `spec: {id: ${id}, version: ${version}, description: test cards}
msg_type: {field: mti, map: {"0100": auth}}
format: {kind: iso8583}
fields:
  - {name: mti, iso8583: {field: mti}}
  - {name: pan, iso8583: {field: 2, format: llvar, length: 19}, ${pan}}
  - {name: amount, type: int, iso8583: {field: 4, format: fixed, length: 12}, promote: true}
`;
}

/** A one-rack flow whose codec reads `reference`. */
function flow(name: string, rack: string, reference: string): string {
  return `meta: {name: ${name}, version: 1}
racks:
  edge: { name: ${rack} }
gears:
  gen: { type: generator, config: { preset: visa-v1-auth, count: 1 } }
  decode:
    type: codec
    config: { spec: ${reference} }
  sink: { type: log-sink }
wires:
  - { from: gen.out, to: decode.in }
  - { from: decode.out, to: sink.in }
`;
}

describe("/api/v1/specs", () => {
  it("imports a spec by id, version and content hash; the same again changes nothing; other content conflicts", async () => {
    const created = await post("/api/v1/specs", spec("cards-a", "1"), "cards-a.yaml");
    expect(created.status).toBe(201);
    const body = (await created.json()) as { hash: string };
    expect(body).toMatchObject({
      id: "cards-a",
      version: "1",
      outcome: "created",
      fields: 3,
      format: "iso8583",
    });
    expect(body.hash).toMatch(/^[0-9a-f]{64}$/);
    const again = await post("/api/v1/specs", `# the same, written again\n${spec("cards-a", "1")}`, "x.yaml");
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ outcome: "unchanged", hash: body.hash });
    const other = await post("/api/v1/specs", spec("cards-a", "1", "mask: drop"), "x.yaml");
    expect(other.status).toBe(409);
    expect(((await other.json()) as { detail: string }).detail).toContain("raise spec.version");
  });

  it("refuses a broken spec with every problem at its line, as problem+json", async () => {
    const res = await post(
      "/api/v1/specs",
      spec("cards-b", "1", "mask: drop, promote: true").replace("llvar", "lvar"),
      "broken.yaml",
    );
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as { detail: string; problems: { line: number; path: string }[] };
    expect(problem.problems.map((p) => `${p.line} ${p.path}`)).toEqual(["6 fields[1].iso8583"]);
    expect(problem.detail).toMatch(/^broken\.yaml:6:\d+ fields\[1\]\.iso8583: /);
    const dropped = await post(
      "/api/v1/specs",
      spec("cards-b", "1", "mask: drop, promote: true"),
      "broken.yaml",
    );
    expect(((await dropped.json()) as { detail: string }).detail).toMatch(
      /^broken\.yaml:6:\d+ fields\[1\]\.promote: a dropped field cannot be promoted/,
    );
    const big = await post("/api/v1/specs", `# ${"x".repeat(300 * 1024)}\n`, "big.yaml");
    expect(big.status).toBe(413);
  });

  it("lists every version and shows one, the last imported by default", async () => {
    await post("/api/v1/specs", spec("cards-c", "1"), "c.yaml");
    await post("/api/v1/specs", spec("cards-c", "2"), "c.yaml");
    const list = (await (await api("/api/v1/specs")).json()) as { specs: { id: string; version: string }[] };
    expect(list.specs.filter((s) => s.id === "cards-c").map((s) => s.version)).toEqual(["2", "1"]);
    const latest = (await (await api("/api/v1/specs/cards-c")).json()) as {
      version: string;
      versions: { version: string }[];
      spec: { fields: unknown[] };
      yaml: string;
    };
    expect(latest.version).toBe("2");
    expect(latest.versions.map((v) => v.version)).toEqual(["2", "1"]);
    expect(latest.spec.fields).toHaveLength(3);
    expect(latest.yaml).toBe(spec("cards-c", "2"));
    expect(
      ((await (await api("/api/v1/specs/cards-c?version=1")).json()) as { version: string }).version,
    ).toBe("1");
    expect((await api("/api/v1/specs/cards-c?version=9")).status).toBe(404);
    expect((await api("/api/v1/specs/nope")).status).toBe(404);
    expect((await api("/api/v1/specs/bad.id")).status).toBe(400);
    expect((await api("/api/v1/specs?x=1")).status).toBe(400);
  });

  it("refuses a scenario whose codec names a spec the mixer does not hold, at the gear's line", async () => {
    const res = await post("/api/v1/scenarios", flow("spec-missing", "rack-x", "cards-none"), "flow.yaml");
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { problems: { line: number; path: string; message: string }[] };
    expect(problem.problems).toEqual([
      expect.objectContaining({
        line: 8,
        path: "gears.decode.config.spec",
        message: expect.stringContaining('unknown spec "cards-none"'),
      }),
    ]);
    await post("/api/v1/specs", spec("cards-d", "1"), "d.yaml");
    const pinned = await post("/api/v1/scenarios", flow("spec-version", "rack-x", "cards-d:7"), "flow.yaml");
    expect(((await pinned.json()) as { detail: string }).detail).toContain(
      "spec cards-d has no version 7; the mixer holds 1",
    );
  });

  it("activation pushes the specs a rack's gears read inside its signed part", async () => {
    const rack = await testRack("rack-spec-a");
    const reply = await rack.enroll();
    if (!reply.ok) throw new Error(reply.error);
    const id = (await verifyWithPublishedKey(reply.passport, reply.cluster_key)).rack_id;
    expect((await api(`/api/v1/racks/${id}/approve`, { method: "POST" })).status).toBe(200);
    await post("/api/v1/specs", spec("cards-e", "1"), "e.yaml");
    await post("/api/v1/specs", spec("cards-e", "2"), "e.yaml");
    expect(
      (await post("/api/v1/scenarios", flow("spec-push", "rack-spec-a", "cards-e"), "f.yaml")).status,
    ).toBe(201);
    const res = await api("/api/v1/scenarios/spec-push/activate?wait=false", { method: "POST" });
    expect(res.status).toBe(200);
    const delivery = await assignedPart(id);
    expect(Object.keys(delivery.part.specs)).toEqual(["cards-e"]);
    expect(delivery.part.specs["cards-e"]?.spec).toMatchObject({ id: "cards-e", version: "2" });
    expect(delivery.part.specs["cards-e"]?.fields.map((f) => f.name)).toEqual(["mti", "pan", "amount"]);
  });
});
