import { scenarioDeliverySchema } from "../../../shared/control/scenario-delivery.ts";
import { peekEnvelopePayload } from "../../../shared/passport/index.ts";
import { canonicalJson } from "../../../shared/scenario/content-hash.ts";
import type { ScenarioPart } from "../../../shared/scenario/index.ts";
import { blobBytes, type RackRow } from "./rack-row.ts";

/**
 * The scenario part assigned to a rack, read back from the signed delivery kept on its row (the mixer signed
 * it; nothing outside the registry wrote it, so it is read without verifying). Undefined when it has none.
 *
 * @example const lanes = assignedPart(row); // its publish and consume lanes cut the rack's bus JWT
 */
export function assignedPart(row: Pick<RackRow, "scenario_part">): ScenarioPart | undefined {
  const bytes = blobBytes(row.scenario_part);
  if (bytes.length === 0) return undefined;
  return scenarioDeliverySchema.parse(peekEnvelopePayload("scenario", bytes)).part;
}

/**
 * Whether two parts wire a rack to the bus alike (the same lanes out and in): when they do not, the rack's
 * bus JWT must be cut again for the new one.
 *
 * @example if (!sameLanes(assignedPart(before), part)) await issueRackPassport(env, id);
 */
export function sameLanes(a: ScenarioPart | undefined, b: ScenarioPart | undefined): boolean {
  const lanes = (part: ScenarioPart | undefined) =>
    canonicalJson({ publish: part?.publish ?? [], consume: part?.consume ?? [] });
  return lanes(a) === lanes(b);
}
