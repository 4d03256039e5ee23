import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signScenarioDelivery } from "../../../shared/control/scenario-delivery.ts";
import { scenarioPart, validateScenario } from "../../../shared/scenario/index.ts";
import { testCluster as cluster } from "../../../test/helpers/passport-fixtures.ts";
import { ScenarioStore } from "./scenario-store.ts";

const RACK_ID = "01938d7e-8b51-7cc4-9d3b-3f1e2a4b5c6d";
const YAML = `meta: { name: demo, version: "1" }
racks: { edge: { name: rack-a } }
gears:
  gen: { type: generator, rack: edge, config: { rate: 5 } }
  sink: { type: log-sink, rack: edge, config: {} }
wires:
  - { from: gen.out, to: sink.in }
`;

async function part() {
  const result = validateScenario(YAML);
  if (!result.ok) throw new Error("the fixture must be valid");
  return scenarioPart(result.scenario, "edge");
}

describe("the scenario part file", () => {
  let dir: string;
  let store: ScenarioStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-scenario-"));
    store = new ScenarioStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("keeps a part signed by the pinned key and addressed to this rack, mode 0600, and loads it back", async () => {
    const key = await cluster();
    expect(await store.load(key.pinned, RACK_ID)).toBeUndefined();
    const bytes = await signScenarioDelivery(
      { rack_id: RACK_ID, issued_at: 1_000, part: await part() },
      key.privateKey,
    );
    const saved = await store.save(bytes, key.pinned, RACK_ID);
    expect(saved.part.gears.map((g) => g.name)).toEqual(["gen", "sink"]);
    expect(await store.load(key.pinned, RACK_ID)).toEqual(saved);
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
    // The same delivery again is the part held, not a change.
    expect(await store.save(bytes, key.pinned, RACK_ID, saved)).toBe(saved);
  });

  it("refuses a tampered part, another cluster's, another rack's and an older one, keeping the last good one", async () => {
    const key = await cluster();
    const other = await cluster();
    const good = await store.save(
      await signScenarioDelivery({ rack_id: RACK_ID, issued_at: 2_000, part: await part() }, key.privateKey),
      key.pinned,
      RACK_ID,
    );
    const kept = await readFile(store.path);
    const tampered = Uint8Array.from(kept);
    tampered[tampered.length - 80] = (tampered[tampered.length - 80] ?? 0) ^ 0xff;
    await expect(store.save(tampered, key.pinned, RACK_ID, good)).rejects.toThrow();
    const foreign = await signScenarioDelivery(
      { rack_id: RACK_ID, issued_at: 3_000, part: await part() },
      other.privateKey,
    );
    await expect(store.save(foreign, key.pinned, RACK_ID, good)).rejects.toThrow(/does not verify against/);
    const elsewhere = await signScenarioDelivery(
      { rack_id: "01938d7e-8b51-7cc4-9d3b-000000000000", issued_at: 3_000, part: await part() },
      key.privateKey,
    );
    await expect(store.save(elsewhere, key.pinned, RACK_ID, good)).rejects.toThrow(/addressed to rack/);
    const older = await signScenarioDelivery(
      { rack_id: RACK_ID, issued_at: 1_000, part: await part() },
      key.privateKey,
    );
    await expect(store.save(older, key.pinned, RACK_ID, good)).rejects.toThrow(/replayed/);
    expect(await readFile(store.path)).toEqual(kept);

    // A file changed on disk is refused at load, naming the file.
    await writeFile(store.path, tampered);
    await expect(store.load(key.pinned, RACK_ID)).rejects.toThrow(store.path);
  });
});
