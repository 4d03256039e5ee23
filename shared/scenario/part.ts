import * as z from "zod";
import { fluxMsgSubject } from "../fluxmsg/subjects.ts";
import { BUILT_IN_GEAR_TYPES, type GearCatalogue } from "../gears/catalogue.ts";
import { type FluxSpec, fluxSpecSchema } from "../spec/model.ts";
import { canonicalJson, contentHash } from "./content-hash.ts";
import {
  formatWireEnd,
  journalSwitchSchema,
  type Scenario,
  scenarioGearSchema,
  scenarioName,
  scenarioWireSchema,
} from "./model.ts";
import { returningLanes } from "./returning-lanes.ts";
import { gearSpecReferences } from "./spec-references.ts";

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
  /**
   * Guaranteed wires leaving a gear here: publish what `from` emits to `subject`. `returnTo` (a returning
   * lane) lists the receiving alias's gears: a message that passed one goes back to that rack
   * (returning-lanes.ts).
   */
  publish: z.array(
    z.object({ from: gearPort, subject: z.string(), returnTo: z.array(scenarioName).optional() }),
  ),
  /**
   * Guaranteed inputs of gears here: one durable pull consumer each, shared by the racks of the alias. A
   * `returning` input is also consumed by each rack alone, on its own subject (returning-lanes.ts).
   */
  consume: z.array(
    z.object({
      subject: z.string(),
      durable: z.string(),
      to: gearPort,
      returning: z.literal(true).optional(),
    }),
  ),
  /** The scenario's journal switch, when on: the rack journals what its guaranteed inputs deliver. */
  journal: journalSwitchSchema.optional(),
  /**
   * The fluxSpecs its gears read, by the reference their config gives (`visa-v1`, `visa-v1:1.0.0`), as the
   * mixer resolved them at activation: the rack keeps them with the part and starts on them without it.
   */
  specs: z.record(z.string(), fluxSpecSchema).default({}),
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

/**
 * The hash a scenario runs under once activated: its content hash, and, when its gears read specs, those specs
 * as the mixer resolved them (`visa-v1` is the version imported last). A new spec version is then a new hash,
 * so a rack holding the old one is sent the new part and reports converging on it; a scenario reading no spec
 * keeps its content hash.
 *
 * @example const hash = await activationHash(row.hash, specs);
 */
export function activationHash(
  scenarioContentHash: string,
  specs: ReadonlyMap<string, FluxSpec>,
): Promise<string> {
  if (specs.size === 0) return Promise.resolve(scenarioContentHash);
  const resolved = [...specs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return contentHash({ scenario: scenarioContentHash, specs: resolved });
}

/** The durable consumer of a guaranteed input: `fluxmsg-<rack alias>-<gear>-<port>`. */
export function laneDurable(rack: string, gear: string, port: string): string {
  return `fluxmsg-${rack}-${gear}-${port}`;
}

/** What a part is cut with besides the scenario: the specs its gears name, resolved, and the gear types. */
export interface ScenarioPartOptions {
  /**
   * By reference (`visa-v1`, `visa-v1:1.0.0`); a reference missing here is a thrown error. Give every part of a
   * scenario the same map (all the specs the scenario names): it is part of the hash the racks report.
   */
  specs?: ReadonlyMap<string, FluxSpec>;
  catalogue?: GearCatalogue;
}

/**
 * Cuts the part of one rack alias out of a validated scenario, with the specs its gears read. A gear's hash
 * covers its specs too, so a new version of a spec restarts the gears that read it.
 *
 * @example const edge = await scenarioPart(scenario, "edge", { specs: new Map([["visa-v1", visa]]) });
 */
export async function scenarioPart(
  scenario: Scenario,
  rack: string,
  options: ScenarioPartOptions = {},
): Promise<ScenarioPart> {
  const here = scenario.gears
    .filter((gear) => gear.rack === rack)
    .sort((a, b) => a.name.localeCompare(b.name));
  const names = new Set(here.map((gear) => gear.name));
  const touching = scenario.wires.filter((w) => names.has(w.from.gear) || names.has(w.to.gear));
  const wireText = (w: Scenario["wires"][number]) =>
    `${w.lane} ${formatWireEnd(w.from, true)} > ${formatWireEnd(w.to, true)}`;
  const specs: Record<string, FluxSpec> = {};
  const gears = await Promise.all(
    here.map(async (gear) => {
      const read = gearSpecReferences(gear, options.catalogue ?? BUILT_IN_GEAR_TYPES).map(({ reference }) => {
        const spec = options.specs?.get(reference);
        if (!spec) throw new Error(`gear ${gear.name} reads spec ${reference}, which was not given`);
        specs[reference] = spec;
        return spec;
      });
      return {
        ...gear,
        hash: await contentHash({
          type: gear.type,
          config: gear.config,
          wires: touching
            .filter((w) => w.from.gear === gear.name || w.to.gear === gear.name)
            .map(wireText)
            .sort(),
          // Absent when a gear reads none, so gears without specs keep the hashes they had.
          ...(read.length > 0 ? { specs: read } : {}),
        }),
      };
    }),
  );
  const guaranteed = touching.filter((w) => w.lane === "guaranteed");
  const subjectOf = (w: Scenario["wires"][number]) => fluxMsgSubject(w.to.rack, w.to.gear, w.to.port);
  const returning = returningLanes(scenario, options.catalogue ?? BUILT_IN_GEAR_TYPES);
  const consume = new Map<string, ScenarioPart["consume"][number]>();
  for (const w of guaranteed.filter((w) => names.has(w.to.gear))) {
    consume.set(subjectOf(w), {
      subject: subjectOf(w),
      durable: laneDurable(w.to.rack, w.to.gear, w.to.port),
      to: { gear: w.to.gear, port: w.to.port },
      ...(returning.has(w) ? { returning: true as const } : {}),
    });
  }
  return {
    scenario: {
      name: scenario.meta.name,
      version: scenario.meta.version,
      hash: await activationHash(await scenarioHash(scenario), options.specs ?? new Map()),
    },
    rack,
    gears,
    hot: touching.filter((w) => w.lane === "hot"),
    publish: guaranteed
      .filter((w) => names.has(w.from.gear))
      .map((w) => ({
        from: { gear: w.from.gear, port: w.from.port },
        subject: subjectOf(w),
        ...(returning.has(w) ? { returnTo: returning.get(w) } : {}),
      })),
    consume: [...consume.values()],
    ...(scenario.journal ? { journal: scenario.journal } : {}),
    specs,
  };
}
