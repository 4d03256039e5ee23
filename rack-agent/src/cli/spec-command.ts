import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Command } from "commander";
import type { LoadedConfig, RackConfig } from "../../../shared/config/index.ts";
import { formatProblem } from "../../../shared/scenario/index.ts";
import { type FluxSpec, parseSpecReference, validateSpec } from "../../../shared/spec/index.ts";
import { outputOption, printList } from "./list-output.ts";
import { addMixerApiOptions, type MixerApiOptions, mixerApi } from "./mixer-api.ts";
import type { Output } from "./telemetry/query-command.ts";
import { textTable as table } from "./text-table.ts";

/** Exit status of a spec with problems: the same as any configuration or usage error. */
const INVALID = 2;

interface SpecSummary {
  id: string;
  version: string;
  hash: string;
  description: string;
  imported_at: string;
}

/** `visa-v1 1.0.0: iso8583, 13 fields (7 promoted, 2 masked)` */
export function specSummary(spec: FluxSpec): string {
  const promoted = spec.fields.filter((f) => f.promote).length;
  const masked = spec.fields.filter((f) => f.mask).length;
  return `${spec.spec.id} ${spec.spec.version}: ${spec.format.kind}, ${spec.fields.length} fields (${promoted} promoted, ${masked} masked)`;
}

async function readText(file: string): Promise<string> {
  return readFile(file, "utf8").catch((cause: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file}: ${cause.code === "ENOENT" ? "no such file" : cause.message}`, {
      cause,
    });
  });
}

/**
 * `fluxrig spec validate FILE` (offline: every problem as `file:line:col path: message`, exit 2) and
 * `fluxrig spec import FILE | list | show ID[:VERSION]` through the mixer's API. A version is named
 * `ID:VERSION`, as for scenarios: `--version` is the program's own flag.
 */
export function addSpecCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: { out: (text: string) => void; env: Record<string, string | undefined> },
): Command {
  const spec = program
    .command("spec")
    .description("fluxSpecs: validate files offline; import, list and show them on the mixer");
  const api = async (command: Command) => {
    const { config } = await loadRack();
    return mixerApi(command.optsWithGlobals<MixerApiOptions>(), io.env, config.store.dir);
  };

  const validate = spec.command("validate");
  validate
    .description("check a spec file offline: shape, field locations, lengths, masking")
    .argument("<file>", "fluxSpec YAML file")
    .action(async (file: string) => {
      const result = validateSpec(await readText(file), { file });
      if (result.ok) {
        io.out(`${file}: valid: ${specSummary(result.spec)}\n`);
        return;
      }
      const count = `${result.problems.length} problem${result.problems.length === 1 ? "" : "s"}`;
      validate.error(`${result.problems.map(formatProblem).join("\n")}\n${file}: ${count}`, {
        exitCode: INVALID,
        code: "fluxrig.spec.invalid",
      });
    });

  addMixerApiOptions(spec.command("import").description("store a spec file on the mixer (validated there)"))
    .argument("<file>", "the spec's YAML file")
    .action(async (file: string, _options: unknown, command: Command) => {
      const text = await readText(file);
      const answer = await (await api(command))
        .post<{ id: string; version: string; hash: string; outcome: string; fields: number; format: string }>(
          "/api/v1/specs",
          text,
          { contentType: "application/yaml" },
        )
        .catch((error: Error) => {
          throw new Error(error.message.replaceAll("spec.yaml:", `${basename(file)}:`));
        });
      io.out(
        `${answer.outcome === "created" ? "imported" : "already stored:"} ${answer.id} ${answer.version} ` +
          `(${answer.hash.slice(0, 12)}): ${answer.format}, ${answer.fields} fields\n`,
      );
    });

  addMixerApiOptions(spec.command("list").description("every stored spec version, newest import first"))
    .addOption(outputOption())
    .action(async (options: { output: Output }, command: Command) => {
      const answer = await (await api(command)).get<{ specs: SpecSummary[] }>("/api/v1/specs");
      printList(io, options.output, answer.specs, answer, () =>
        answer.specs.length === 0
          ? "no specs stored yet (fluxrig spec import FILE)\n"
          : table([
              ["ID", "VERSION", "HASH", "IMPORTED", "DESCRIPTION"],
              ...answer.specs.map((s) => [
                s.id,
                s.version,
                s.hash.slice(0, 12),
                s.imported_at,
                s.description || "-",
              ]),
            ]),
      );
    });

  addMixerApiOptions(spec.command("show").description("one stored spec: its versions and its file"))
    .argument("<id[:version]>", "the spec's id, and a version (default: the last imported)")
    .addOption(outputOption())
    .action(async (reference: string, options: { output: Output }, command: Command) => {
      const { id, version } = parseSpecReference(reference);
      const query = version ? `?${new URLSearchParams({ version })}` : "";
      const answer = await (await api(command)).get<
        SpecSummary & { versions: { version: string }[]; yaml: string }
      >(`/api/v1/specs/${encodeURIComponent(id)}${query}`);
      printList(io, options.output, [answer], answer, () =>
        [
          `${answer.id} ${answer.version} (${answer.hash}), imported ${answer.imported_at}`,
          `versions: ${answer.versions.map((v) => v.version).join(", ")}`,
          "",
          answer.yaml.trimEnd(),
          "",
        ].join("\n"),
      );
    });
  return spec;
}
