import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { formatProblem, type Scenario, validateScenario } from "../../../shared/scenario/index.ts";
import { GearRegistry } from "../gears/registry.ts";

/** Exit status of a scenario with problems: the same as any configuration or usage error. */
const INVALID = 2;

/** `demo 1: 1 rack, 5 gears, 4 wires (4 hot, 0 guaranteed)` */
export function scenarioSummary(scenario: Scenario): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  const hot = scenario.wires.filter((w) => w.lane === "hot").length;
  return (
    `${scenario.meta.name} ${scenario.meta.version}: ${count(Object.keys(scenario.racks).length, "rack")}, ` +
    `${count(scenario.gears.length, "gear")}, ${count(scenario.wires.length, "wire")} ` +
    `(${hot} hot, ${scenario.wires.length - hot} guaranteed)`
  );
}

/**
 * `fluxrig scenario validate FILE`: the mixer's checks, offline, against the gear types this rack runs.
 * Valid: one summary line, exit 0. Invalid: every problem as `file:line:col path: message`, exit 2.
 */
export function addScenarioCommand(program: Command, io: { out: (text: string) => void }): Command {
  const scenario = program
    .command("scenario")
    .description(
      "scenarios: validate files offline; import, list, show, activate and follow them on the mixer",
    );
  const validate = scenario.command("validate");
  validate
    .description("check a scenario file offline: shape, gear configs, ports, racks, lanes and cycles")
    .argument("<file>", "scenario YAML file")
    .action(async (file: string) => {
      const text = await readFile(file, "utf8").catch((cause: NodeJS.ErrnoException) => {
        throw new Error(`cannot read ${file}: ${cause.code === "ENOENT" ? "no such file" : cause.message}`, {
          cause,
        });
      });
      const result = validateScenario(text, { file, catalogue: GearRegistry.builtIn().catalogue() });
      if (result.ok) {
        io.out(`${file}: valid: ${scenarioSummary(result.scenario)}\n`);
        return;
      }
      const count = `${result.problems.length} problem${result.problems.length === 1 ? "" : "s"}`;
      // commander prints it on stderr and runCli exits with its code, as for usage errors.
      validate.error(`${result.problems.map(formatProblem).join("\n")}\n${file}: ${count}`, {
        exitCode: INVALID,
        code: "fluxrig.scenario.invalid",
      });
    });
  return scenario;
}
