import { describe, expect, it } from "vitest";
import { mixerEnv } from "../../test-helpers/test-rack.ts";
import { rackNames } from "../registry/racks.ts";
import { entityClaimProblem, KnownRacks } from "./entity-claims.ts";

const A_ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a01";
const B_ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a02";
const OTHER_ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a03";

describe("entityClaimProblem against the registry's racks", () => {
  const racks = new KnownRacks(async () => [
    { id: A_ID, name: "rack-a" },
    { id: B_ID, name: "rack-b" },
  ]);

  it("accepts an enrolled rack's own records and refuses its name or id on another's subject", async () => {
    const onA = await racks.check("flux.telemetry.logs.rack-a");
    expect(entityClaimProblem({ entity_id: A_ID, entity_name: "rack-a" }, onA)).toBeUndefined();
    expect(entityClaimProblem({ entity_id: B_ID, entity_name: "rack-b" }, onA)).toBe(
      'entity_name "rack-b" is not rack-a, the rack its subject flux.telemetry.logs.rack-a names',
    );
    expect(entityClaimProblem({ entity_id: B_ID, entity_name: "rack-a" }, onA)).toBe(
      `entity_id ${B_ID} is not ${A_ID}, the id of rack-a, the rack its subject flux.telemetry.logs.rack-a names`,
    );
  });

  it("lets a rack not enrolled (fluxrig emit) use any id but an enrolled rack's", async () => {
    const onC = await racks.check("flux.journal.rack-c");
    expect(entityClaimProblem({ entity_id: OTHER_ID, entity_name: "rack-c" }, onC)).toBeUndefined();
    expect(entityClaimProblem({ entity_id: B_ID, entity_name: "rack-c" }, onC)).toBe(
      `entity_id ${B_ID} is rack rack-b's, not rack-c, the rack its subject flux.journal.rack-c names`,
    );
  });

  it("reads names and ids from D1 without the racks' sealed secrets", async () => {
    expect(await rackNames(mixerEnv.REGISTRY)).toEqual(expect.any(Array));
  });
});
