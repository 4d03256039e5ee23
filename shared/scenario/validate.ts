import type { z } from "zod";
import { closest } from "../config/suggest.ts";
import { NAME_PATTERN } from "../fluxmsg/message.ts";
import { BUILT_IN_GEAR_TYPES, type GearCatalogue } from "../gears/catalogue.ts";
import { type AnyGearTypeDeclaration, gearPorts } from "../gears/gear-type.ts";
import { parseSpecReference } from "../spec/reference.ts";
import { findCycles } from "./cycles.ts";
import { documentSchema, listedGearSchema, mappedGearSchema, wireSchema } from "./document.ts";
import type { RackTarget, Scenario, ScenarioGear, ScenarioWire, WireEnd } from "./model.ts";
import type { DocPath, ScenarioProblem } from "./scenario-error.ts";
import { gearSpecReferences } from "./spec-references.ts";
import { YamlSource } from "./yaml-source.ts";
import { parseAt } from "./zod-problems.ts";

export interface ValidateScenarioOptions {
  /** The name problems carry (`scenario.yaml:14:5 …`). Default "scenario.yaml". */
  file?: string;
  /** The gear types a scenario may use. Default the built-in ones. */
  catalogue?: GearCatalogue;
  /**
   * The fluxSpecs that exist, id → versions (the mixer's): a gear naming another is refused. Absent (offline
   * validation), spec references are not checked.
   */
  specs?: ReadonlyMap<string, readonly string[]>;
}

export type ScenarioValidation =
  | { ok: true; scenario: Scenario }
  | { ok: false; problems: ScenarioProblem[] };

/** A gear as checked so far: `ports` is unknown when its type or config was refused (no cascade of errors). */
interface CheckedGear {
  gear: ScenarioGear;
  path: DocPath;
  declaration: AnyGearTypeDeclaration | undefined;
  ports: { inputs: readonly string[]; outputs: readonly string[] } | undefined;
}

const SECTIONS = Object.keys(documentSchema.shape);

/**
 * Validates a scenario YAML file: its shape (zod), each gear's config against its type's schema, and the
 * graph: known gear types, ports and rack aliases, no empty selector, no duplicate gear, no wire to itself,
 * hot lanes only within one rack, and no cycle unless `allow_cycles: true`. Every problem found is returned
 * at once, each with its line, column and path. Runs in Node and workerd alike (the mixer validates on
 * import).
 *
 * Decisions: a wire between two racks defaults to `guaranteed`, and an explicit `hot` one is refused rather
 * than upgraded, since the two lanes differ in delivery (at most once vs at least once) and the author
 * should see that. A cycle is refused unless declared: `max_hops` would end a loop at run time, but only
 * after each message has gone round dozens of times and landed in the dead-letter subject; a deliberate
 * loop (a retry through a router) says `allow_cycles: true`. A wire into a terminal input (a reply port)
 * closes no cycle.
 *
 * @example
 * const result = validateScenario(await readFile("card-auth.yaml", "utf8"), { file: "card-auth.yaml" });
 * if (!result.ok) console.error(result.problems.map(formatProblem).join("\n"));
 */
export function validateScenario(text: string, options: ValidateScenarioOptions = {}): ScenarioValidation {
  const source = new YamlSource(options.file ?? "scenario.yaml", text);
  if (source.problems.length > 0) return { ok: false, problems: source.problems };
  const problems: ScenarioProblem[] = [];
  const value = source.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, problems: [source.problem([], "expected a map with meta, racks, gears and wires")] };
  }
  const doc = value as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!SECTIONS.includes(key))
      problems.push(source.problem([key], unknownMessage("section", key, SECTIONS), "key"));
  }
  const section = <K extends keyof typeof documentSchema.shape>(key: K) =>
    parseAt(source, [key], documentSchema.shape[key], doc[key], problems) as
      | z.output<(typeof documentSchema.shape)[K]>
      | undefined;
  const meta = section("meta");
  const allowCycles = section("allow_cycles") ?? false;
  const journal = section("journal");
  const racks = checkRacks(source, section("racks"), problems);
  const catalogue = options.catalogue ?? BUILT_IN_GEAR_TYPES;
  const gears = checkGears(source, section("gears"), racks, catalogue, problems);
  if (options.specs) checkSpecReferences(source, gears, catalogue, options.specs, problems);
  const wires = checkWires(source, section("wires") ?? [], gears, problems);
  if (!allowCycles) {
    for (const cycle of findCycles(wires, gears)) {
      const route = cycle.gears.join(" → ");
      problems.push(
        source.problem(
          ["wires", cycle.closingWire],
          `this wire closes a cycle (${route}): messages would loop until rack.max_hops dead-letters them; ` +
            "add `allow_cycles: true` at the top if the loop is deliberate",
        ),
      );
    }
  }
  if (problems.length > 0 || !meta || !racks) {
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    return { ok: false, problems };
  }
  return {
    ok: true,
    scenario: {
      meta,
      allow_cycles: allowCycles,
      ...(journal?.guaranteed_wires ? { journal: { guaranteed_wires: true as const } } : {}),
      racks,
      gears: [...gears.values()].map((checked) => checked.gear),
      wires: wires.map((wire) => wire.wire),
    },
  };
}

function unknownMessage(what: string, name: string, known: Iterable<string>): string {
  const list = [...known];
  const guess = closest(name, list);
  return `unknown ${what} "${name}"${guess ? ` (did you mean "${guess}"?)` : ""}; known: ${list.join(", ") || "none"}`;
}

function checkRacks(
  source: YamlSource,
  written: z.output<typeof documentSchema.shape.racks> | undefined,
  problems: ScenarioProblem[],
): Record<string, RackTarget> | undefined {
  if (!written) return undefined;
  const racks: Record<string, RackTarget> = {};
  if (Object.keys(written).length === 0)
    problems.push(source.problem(["racks"], "expected at least one rack alias"));
  for (const [alias, target] of Object.entries(written)) {
    const path = ["racks", alias];
    if ((target.name === undefined) === (target.selector === undefined)) {
      problems.push(
        source.problem(path, "expected exactly one of name (one rack) or selector (racks by label)"),
      );
    } else if (target.selector && Object.keys(target.selector).length === 0) {
      problems.push(
        source.problem(
          [...path, "selector"],
          "empty selector: it would match every rack; give at least one label, or name one rack with name:",
        ),
      );
    } else {
      racks[alias] = target.name === undefined ? { selector: target.selector ?? {} } : { name: target.name };
    }
  }
  return racks;
}

function checkGears(
  source: YamlSource,
  written: z.output<typeof documentSchema.shape.gears> | undefined,
  racks: Record<string, RackTarget> | undefined,
  catalogue: GearCatalogue,
  problems: ScenarioProblem[],
): Map<string, CheckedGear> {
  const gears = new Map<string, CheckedGear>();
  if (!written) return gears;
  const entries: [DocPath, unknown, string | undefined][] = Array.isArray(written)
    ? written.map((item, i) => [["gears", i], item, undefined])
    : Object.entries(written).map(([name, item]) => [["gears", name], item, name]);
  const aliases = Object.keys(racks ?? {});
  for (const [path, item, mappedName] of entries) {
    if (mappedName !== undefined && !NAME_PATTERN.test(mappedName)) {
      problems.push(
        source.problem(
          path,
          "bad gear name: expected letters, digits, '_' or '-' (no dots or spaces)",
          "key",
        ),
      );
      continue;
    }
    const parsed =
      mappedName === undefined
        ? parseAt(source, path, listedGearSchema, item, problems)
        : parseAt(source, path, mappedGearSchema, item, problems);
    if (!parsed) continue;
    const name: string = mappedName ?? ("name" in parsed ? String(parsed.name) : "");
    const namePath = mappedName === undefined ? [...path, "name"] : path;
    const first = gears.get(name);
    if (first) {
      const at = source.problem(first.path, "");
      problems.push(
        source.problem(
          namePath,
          `duplicate gear name "${name}" (first at line ${at.line})`,
          mappedName ? "key" : "value",
        ),
      );
      continue;
    }
    let rack = parsed.rack;
    if (rack === undefined) {
      if (aliases.length === 1) rack = aliases[0];
      else if (racks) {
        problems.push(
          source.problem(
            path,
            `rack: missing: this scenario has several racks (${aliases.join(", ")}); say which`,
          ),
        );
      }
    } else if (racks && !aliases.includes(rack)) {
      problems.push(source.problem([...path, "rack"], unknownMessage("rack alias", rack, aliases)));
    }
    const declaration = catalogue.get(parsed.type);
    let ports: CheckedGear["ports"];
    if (!declaration) {
      problems.push(
        source.problem([...path, "type"], unknownMessage("gear type", parsed.type, catalogue.keys())),
      );
    } else {
      const config = parseAt(source, [...path, "config"], declaration.config, parsed.config, problems);
      if (config !== undefined) ports = gearPorts(declaration, config);
    }
    gears.set(name, {
      gear: { name, type: parsed.type, rack: rack ?? "", config: parsed.config },
      path,
      declaration,
      ports,
    });
  }
  return gears;
}

/** Each spec a gear names must be one the mixer holds, at the version named. */
function checkSpecReferences(
  source: YamlSource,
  gears: Map<string, CheckedGear>,
  catalogue: GearCatalogue,
  specs: ReadonlyMap<string, readonly string[]>,
  problems: ScenarioProblem[],
): void {
  for (const { gear, path, ports } of gears.values()) {
    if (!ports) continue;
    for (const { path: at, reference } of gearSpecReferences(gear, catalogue)) {
      const { id, version } = parseSpecReference(reference);
      const versions = specs.get(id);
      const where = [...path, "config", ...at];
      if (!versions) {
        problems.push(
          source.problem(where, `${unknownMessage("spec", id, specs.keys())} (fluxrig spec import FILE)`),
        );
      } else if (version !== undefined && !versions.includes(version)) {
        problems.push(
          source.problem(
            where,
            `spec ${id} has no version ${version}; the mixer holds ${versions.join(", ")}`,
          ),
        );
      }
    }
  }
}

/** A wire that passed every check of its own, with where it is written. */
export interface CheckedWire {
  wire: ScenarioWire;
  index: number;
}

function checkWires(
  source: YamlSource,
  written: unknown[],
  gears: Map<string, CheckedGear>,
  problems: ScenarioProblem[],
): CheckedWire[] {
  const wires: CheckedWire[] = [];
  const seen = new Map<string, number>();
  for (const [index, item] of written.entries()) {
    const path = ["wires", index];
    const parsed = parseAt(source, path, wireSchema, item, problems);
    if (!parsed) continue;
    const from = resolveEnd(source, [...path, "from"], parsed.from, "output", gears, problems);
    const to = resolveEnd(source, [...path, "to"], parsed.to, "input", gears, problems);
    if (!from || !to) continue;
    if (from.gear === to.gear) {
      problems.push(
        source.problem(
          path,
          `a wire from gear "${from.gear}" to itself would feed every message back into it`,
        ),
      );
      continue;
    }
    const key = `${from.gear}.${from.port}>${to.gear}.${to.port}`;
    const twin = seen.get(key);
    if (twin !== undefined) {
      problems.push(
        source.problem(path, `the same wire as wires[${twin}]: each message would be delivered twice`),
      );
      continue;
    }
    seen.set(key, index);
    const crossRack = from.rack !== to.rack;
    if (crossRack && parsed.lane === "hot") {
      problems.push(
        source.problem(
          [...path, "lane"],
          `a wire between racks "${from.rack}" and "${to.rack}" must be guaranteed: hot lanes are in memory within one rack (leave lane out, or write guaranteed)`,
        ),
      );
      continue;
    }
    wires.push({ wire: { from, to, lane: parsed.lane ?? (crossRack ? "guaranteed" : "hot") }, index });
  }
  return wires;
}

/** `gear.port` or `rack.gear.port`, checked against the gear's rack and its ports. */
function resolveEnd(
  source: YamlSource,
  path: DocPath,
  text: string,
  side: "input" | "output",
  gears: Map<string, CheckedGear>,
  problems: ScenarioProblem[],
): WireEnd | undefined {
  const parts = text.split(".");
  if ((parts.length !== 2 && parts.length !== 3) || !parts.every((part) => NAME_PATTERN.test(part))) {
    problems.push(source.problem(path, `expected gear.port or rack.gear.port, got "${text}"`));
    return undefined;
  }
  const [rack, gearName, port] = (parts.length === 3 ? parts : [undefined, ...parts]) as [
    string | undefined,
    string,
    string,
  ];
  const checked = gears.get(gearName);
  if (!checked) {
    problems.push(source.problem(path, unknownMessage("gear", gearName, gears.keys())));
    return undefined;
  }
  const { gear, ports, declaration } = checked;
  if (rack !== undefined && rack !== gear.rack) {
    problems.push(source.problem(path, `gear "${gearName}" runs on rack "${gear.rack}", not "${rack}"`));
    return undefined;
  }
  // A gear whose type or config was refused has unknown ports: its wires are still checked for the rest.
  if (!ports || !declaration) return { rack: gear.rack, gear: gearName, port };
  const own = side === "input" ? ports.inputs : ports.outputs;
  if (!own.includes(port)) {
    const other = side === "input" ? ports.outputs : ports.inputs;
    const hint = other.includes(port) ? ` ("${port}" is an ${side === "input" ? "output" : "input"})` : "";
    problems.push(
      source.problem(
        path,
        `gear "${gearName}" (${declaration.type}) has no ${side} "${port}"${hint}; its ${side}s: ${own.join(", ") || "none"}`,
      ),
    );
    return undefined;
  }
  return { rack: gear.rack, gear: gearName, port };
}
