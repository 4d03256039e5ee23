import * as z from "zod";
import { openEnvelope, type PinnedKey, signEnvelope } from "../passport/index.ts";
import { scenarioPartSchema } from "../scenario/index.ts";

/**
 * What the mixer sends a rack on `flux.ctl.scenario.<rack_id>`: its part of a scenario, addressed to it and
 * signed with the cluster key like its passport. `issued_at` grows per rack, so a replayed older part is
 * refused; `rack_id` binds it to one rack, so another rack's part cannot be fed to it.
 */
export const scenarioDeliverySchema = z.object({
  rack_id: z.uuid(),
  issued_at: z.int().positive(),
  /** `mixer.max_hops`: the global cap on hops; a rack applies the lower of it and its `rack.max_hops`. */
  max_hops: z.int().positive().max(1024).optional(),
  part: scenarioPartSchema,
});
export type ScenarioDelivery = z.infer<typeof scenarioDeliverySchema>;

/**
 * Signs a scenario part for one rack with the cluster key.
 *
 * @example const bytes = await signScenarioDelivery({ rack_id, issued_at: Date.now(), part }, key.privateKey);
 */
export function signScenarioDelivery(
  delivery: ScenarioDelivery,
  clusterPrivateKey: CryptoKey,
): Promise<Uint8Array> {
  return signEnvelope("scenario", scenarioDeliverySchema.parse(delivery), clusterPrivateKey);
}

/**
 * Verifies a delivered part against the pinned cluster key and checks it is addressed to `rackId`. Throws
 * an error that says why it is refused.
 *
 * @example const delivery = await openScenarioDelivery(bytes, pinned, rackId);
 */
export async function openScenarioDelivery(
  bytes: Uint8Array,
  pinned: PinnedKey,
  rackId: string,
): Promise<ScenarioDelivery> {
  const payload = await openEnvelope(
    "scenario",
    bytes,
    pinned.key,
    `the pinned cluster key ${pinned.fingerprint}`,
  );
  const parsed = scenarioDeliverySchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`not a scenario part: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  if (parsed.data.rack_id !== rackId) {
    throw new Error(
      `the scenario part is addressed to rack ${parsed.data.rack_id}, not to this rack (${rackId})`,
    );
  }
  return parsed.data;
}
