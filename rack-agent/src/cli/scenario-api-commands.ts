import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Command } from "commander";
import type { LoadedConfig, RackConfig } from "../../../shared/config/index.ts";
import { parseScenarioReference } from "../../../shared/scenario/index.ts";
import { type Output, outputOption, printList as print } from "./list-output.ts";
import { addMixerApiOptions, type MixerApi, type MixerApiOptions, mixerApi } from "./mixer-api.ts";
import { textTable as table } from "./text-table.ts";

/** Where one target rack stands with an activation (`GET /api/v1/scenarios/{name}/status`). */
interface Convergence {
  name: string;
  version: string;
  hash: string;
  converged: boolean;
  settled: boolean;
  activated_at?: string;
  racks: { alias: string; name: string; id: string | null; state: string; reason: string | null }[];
}

interface ScenarioSummary {
  name: string;
  version: string;
  hash: string;
  description: string;
  imported_at: string;
}

/** How long `activate --wait` lets the mixer wait, beyond `mixer.scenario_wait_timeout` (at most 1 h). */
const ACTIVATE_TIMEOUT_MS = 3_600_000;

/** A stored scenario's `name[:version]`; a file path is an error here (import it first). */
function storedReference(text: string): { name: string; version?: string } {
  const reference = parseScenarioReference(text);
  if (reference.kind === "file")
    throw new Error(`${text} is a file: fluxrig scenario import it, then name it`);
  return reference;
}

function convergenceTable(report: Convergence): string {
  const head = `${report.name} ${report.version} (${report.hash.slice(0, 12)}): ${
    report.converged ? "converged on every target rack" : "not converged"
  }\n`;
  if (report.racks.length === 0) return `${head}no rack matches its targets\n`;
  return (
    head +
    table([
      ["RACK", "ALIAS", "STATE", "WHY"],
      ...report.racks.map((r) => [r.name, r.alias, r.state, r.reason ?? "-"]),
    ])
  );
}

/**
 * `fluxrig scenario import|list|show|activate|status`: scenarios through the mixer's API. `import` sends the
 * file as it is (the mixer validates it and names every problem's line); `activate` gives each target rack
 * its part, and with `--wait` waits for them to run it (exit 1 if one did not, with why).
 */
export function addScenarioApiCommands(
  scenario: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: { out: (text: string) => void; env: Record<string, string | undefined> },
): void {
  const api = async (command: Command): Promise<MixerApi> => {
    const { config } = await loadRack();
    return mixerApi(command.optsWithGlobals<MixerApiOptions>(), io.env, config.store.dir);
  };
  // A version is named as `NAME:VERSION` (as mixer.startup_scenario names one): `--version` is the program's.
  const named = (reference: string, path = "", query: Record<string, string> = {}) => {
    const { name, version } = storedReference(reference);
    const params = new URLSearchParams({ ...query, ...(version ? { version } : {}) }).toString();
    return `/api/v1/scenarios/${encodeURIComponent(name)}${path}${params ? `?${params}` : ""}`;
  };

  addMixerApiOptions(
    scenario.command("import").description("store a scenario file on the mixer (validated there)"),
  )
    .argument("<file>", "the scenario's YAML file")
    .action(async (file: string, _options: unknown, command: Command) => {
      const text = await readFile(file, "utf8").catch((error: Error) => {
        throw new Error(`cannot read ${file}: ${error.message}`);
      });
      const client = await api(command);
      const answer = await client
        .post<{ name: string; version: string; hash: string; outcome: string; gears: number; wires: number }>(
          "/api/v1/scenarios",
          text,
          { contentType: "application/yaml" },
        )
        .catch((error: Error) => {
          throw new Error(error.message.replace("scenario.yaml", basename(file)));
        });
      io.out(
        `${answer.outcome === "created" ? "imported" : "already stored:"} ${answer.name} ${answer.version} ` +
          `(${answer.hash.slice(0, 12)}): ${answer.gears} gears, ${answer.wires} wires\n`,
      );
    });

  addMixerApiOptions(
    scenario.command("list").description("every stored scenario version, newest import first"),
  )
    .addOption(outputOption())
    .action(async (options: { output: Output }, command: Command) => {
      const answer = await (await api(command)).get<{ scenarios: ScenarioSummary[] }>("/api/v1/scenarios");
      print(io, options.output, answer.scenarios, answer, () =>
        answer.scenarios.length === 0
          ? "no scenarios stored yet (fluxrig scenario import FILE)\n"
          : table([
              ["NAME", "VERSION", "HASH", "IMPORTED", "DESCRIPTION"],
              ...answer.scenarios.map((s) => [
                s.name,
                s.version,
                s.hash.slice(0, 12),
                s.imported_at,
                s.description || "-",
              ]),
            ]),
      );
    });

  addMixerApiOptions(scenario.command("show").description("one stored scenario: its versions and its file"))
    .argument("<name[:version]>", "the scenario's meta.name, and a version (default: the last imported)")
    .addOption(outputOption())
    .action(async (reference: string, options: { output: Output }, command: Command) => {
      const answer = await (await api(command)).get<
        ScenarioSummary & { versions: { version: string }[]; yaml: string }
      >(named(reference));
      print(io, options.output, [answer], answer, () =>
        [
          `${answer.name} ${answer.version} (${answer.hash}), imported ${answer.imported_at}`,
          `versions: ${answer.versions.map((v) => v.version).join(", ")}`,
          "",
          answer.yaml.trimEnd(),
          "",
        ].join("\n"),
      );
    });

  addMixerApiOptions(
    scenario
      .command("activate")
      .description("give each target rack its part of a scenario; --wait waits until they run it"),
  )
    .argument("<name[:version]>", "the scenario's meta.name, and a version (default: the last imported)")
    .option(
      "--wait",
      "wait up to mixer.scenario_wait_timeout for every target rack; exit 1 if one did not converge",
    )
    .addOption(outputOption())
    .action(async (reference: string, options: { wait?: boolean; output: Output }, command: Command) => {
      const { name } = storedReference(reference);
      const report = await (await api(command)).post<Convergence>(
        named(reference, "/activate", { wait: options.wait ? "true" : "false" }),
        undefined,
        { timeoutMs: ACTIVATE_TIMEOUT_MS },
      );
      print(io, options.output, report.racks, report, () => convergenceTable(report));
      if (options.wait && !report.converged) {
        const behind = report.racks.filter((r) => r.state !== "converged").length;
        throw new Error(
          `${name} did not converge on ${behind} of ${report.racks.length} target racks (see WHY above)`,
        );
      }
    });

  addMixerApiOptions(
    scenario.command("status").description("where each target rack stands with the last activation"),
  )
    .argument("<name>", "the scenario's meta.name")
    .addOption(outputOption())
    .action(async (name: string, options: { output: Output }, command: Command) => {
      const report = await (await api(command)).get<Convergence>(named(name, "/status"));
      print(io, options.output, report.racks, report, () => convergenceTable(report));
    });
}
