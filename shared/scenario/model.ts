import * as z from "zod";
import { NAME_PATTERN } from "../fluxmsg/message.ts";

/** Gear, rack-alias and scenario names: one subject token each (they name guaranteed lanes). */
export const scenarioName = z
  .string()
  .regex(NAME_PATTERN, "expected letters, digits, '_' or '-' (no dots or spaces)");

export const LANES = ["hot", "guaranteed"] as const;
/** `hot`: in memory within one rack, at most once. `guaranteed`: JetStream, acked after the receiver is done. */
export type Lane = (typeof LANES)[number];

/** Which racks run an alias's gears: one rack by name, or every rack whose labels match all of a selector's. */
export const rackTargetSchema = z.union([
  z.strictObject({ name: z.string().min(1) }),
  z.strictObject({ selector: z.record(z.string(), z.string()) }),
]);
export type RackTarget = z.infer<typeof rackTargetSchema>;

export const scenarioGearSchema = z.object({
  name: scenarioName,
  type: z.string().min(1),
  /** The rack alias the gear runs on. */
  rack: scenarioName,
  /** As written (durations as text, `${SECRET}` unresolved): the rack parses it with the type's schema. */
  config: z.record(z.string(), z.json()),
});
export type ScenarioGear = z.infer<typeof scenarioGearSchema>;

export const wireEndSchema = z.object({ rack: scenarioName, gear: scenarioName, port: scenarioName });
export type WireEnd = z.infer<typeof wireEndSchema>;

export const scenarioWireSchema = z.object({ from: wireEndSchema, to: wireEndSchema, lane: z.enum(LANES) });
export type ScenarioWire = z.infer<typeof scenarioWireSchema>;

/** `journal: {guaranteed_wires: true}`: every message crossing a guaranteed wire is journaled. */
export const journalSwitchSchema = z.object({ guaranteed_wires: z.literal(true) });
export type JournalSwitch = z.infer<typeof journalSwitchSchema>;

/**
 * A validated scenario in normal form: gears as a list with their rack alias filled in, wires with both
 * ends' racks and their lane decided. What the content hash is taken over and parts are cut from.
 */
export const scenarioSchema = z.object({
  meta: z.object({ name: scenarioName, version: z.string().min(1), description: z.string().optional() }),
  allow_cycles: z.boolean(),
  /**
   * Present only when switched on (`guaranteed_wires: true`), so scenarios without it keep the content hash
   * they had before the switch existed.
   */
  journal: journalSwitchSchema.optional(),
  racks: z.record(scenarioName, rackTargetSchema),
  gears: z.array(scenarioGearSchema),
  wires: z.array(scenarioWireSchema),
});
export type Scenario = z.infer<typeof scenarioSchema>;

/** `gear.port`, or `rack.gear.port` when the rack matters. */
export function formatWireEnd(end: WireEnd, withRack = false): string {
  return withRack ? `${end.rack}.${end.gear}.${end.port}` : `${end.gear}.${end.port}`;
}
