import { z } from "zod";
import { fluxMsgSubject } from "../fluxmsg/subjects.ts";
import { canonicalJson, contentHash } from "./content-hash.ts";
import {
  formatWireEnd,
  journalSwitchSchema,
  type Scenario,
  scenarioGearSchema,
  scenarioName,
  scenarioWireSchema,
} from "./model.ts";

const gearPort = z.object({ gear: scenarioName, port: scenarioName });

/**
 * What one rack alias runs of a scenario: its gears (each with a hash of its type, config and wiring, so a
 * new part restarts only the gears whose hash changed), the hot wires among them, and the guaranteed lanes
 * it publishes to and consumes from. Every rack an alias resolves to runs the same part, so lane subjects
 * and consumers are named for the alias: racks sharing an alias share each input's durable consumer, and
 * JetStream spreads its messages among them.
 */
export const scenarioPartSchema = z.object({
  scenario: z.object({ name: scenarioName, version: z.string(), hash: z.string() }),
  rack: scenarioName,
  gears: z.array(scenarioGearSchema.extend({ hash: z.string() })),
  hot: z.array(scenarioWireSchema),
  /** Guaranteed wires leaving a gear here: publish what `from` emits to `subject`. */
  publish: z.array(z.object({ from: gearPort, subject: z.string() })),
  /** Guaranteed inputs of gears here: one durable pull consumer each. */
  consume: z.array(z.object({ subject: z.string(), durable: z.string(), to: gearPort })),
  /** The scenario's journal switch, when on: the rack journals what its guaranteed inputs deliver. */
  journal: journalSwitchSchema.optional(),
});
export type ScenarioPart = z.infer<typeof scenarioPartSchema>;
export type PartGear = ScenarioPart["gears"][number];

/**
 * The scenario in a stable order, for hashing: gears by name, wires by their ends.
 *
 * @example const hash = await scenarioHash(result.scenario);
 */
export function scenarioHash(scenario: Scenario): Promise<string> {
  const wireKey = (wire: Scenario["wires"][number]) => canonicalJson(wire);
  return contentHash({
    ...scenario,
    gears: [...scenario.gears].sort((a, b) => a.name.localeCompare(b.name)),
    wires: [...scenario.wires].sort((a, b) => wireKey(a).localeCompare(wireKey(b))),
  });
}

/** The durable consumer of a guaranteed input: `fluxmsg-<rack alias>-<gear>-<port>`. */
export function laneDurable(rack: string, gear: string, port: string): string {
  return `fluxmsg-${rack}-${gear}-${port}`;
}

/**
 * Cuts the part of one rack alias out of a validated scenario.
 *
 * @example const edge = await scenarioPart(scenario, "edge");
 */
export async function scenarioPart(scenario: Scenario, rack: string): Promise<ScenarioPart> {
  const here = scenario.gears
    .filter((gear) => gear.rack === rack)
    .sort((a, b) => a.name.localeCompare(b.name));
  const names = new Set(here.map((gear) => gear.name));
  const touching = scenario.wires.filter((w) => names.has(w.from.gear) || names.has(w.to.gear));
  const wireText = (w: Scenario["wires"][number]) =>
    `${w.lane} ${formatWireEnd(w.from, true)} > ${formatWireEnd(w.to, true)}`;
  const gears = await Promise.all(
    here.map(async (gear) => ({
      ...gear,
      hash: await contentHash({
        type: gear.type,
        config: gear.config,
        wires: touching
          .filter((w) => w.from.gear === gear.name || w.to.gear === gear.name)
          .map(wireText)
          .sort(),
      }),
    })),
  );
  const guaranteed = touching.filter((w) => w.lane === "guaranteed");
  const subjectOf = (w: Scenario["wires"][number]) => fluxMsgSubject(w.to.rack, w.to.gear, w.to.port);
  const consume = new Map<string, ScenarioPart["consume"][number]>();
  for (const w of guaranteed.filter((w) => names.has(w.to.gear))) {
    consume.set(subjectOf(w), {
      subject: subjectOf(w),
      durable: laneDurable(w.to.rack, w.to.gear, w.to.port),
      to: { gear: w.to.gear, port: w.to.port },
    });
  }
  return {
    scenario: {
      name: scenario.meta.name,
      version: scenario.meta.version,
      hash: await scenarioHash(scenario),
    },
    rack,
    gears,
    hot: touching.filter((w) => w.lane === "hot"),
    publish: guaranteed
      .filter((w) => names.has(w.from.gear))
      .map((w) => ({ from: { gear: w.from.gear, port: w.from.port }, subject: subjectOf(w) })),
    consume: [...consume.values()],
    ...(scenario.journal ? { journal: scenario.journal } : {}),
  };
}
