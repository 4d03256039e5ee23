import { type Command, Option } from "commander";
import type { LoadedConfig, RackConfig } from "../../../../shared/config/index.ts";
import type { FluxAnswer, FluxHop } from "../../../../shared/journal/query-results.ts";
import { addMixerApiOptions, type MixerApiOptions } from "../mixer-api.ts";
import { logTable } from "../telemetry/logs-command.ts";
import {
  apiPath,
  formatMs,
  type Palette,
  palette,
  type QueryIo,
  queryApi,
  reportLimits,
} from "../telemetry/query-command.ts";
import { spanTreeTable } from "../telemetry/traces-command.ts";
import { textTable } from "../text-table.ts";
import { hopText } from "./messages-command.ts";

interface FluxOptions extends MixerApiOptions {
  since?: string;
  until?: string;
  includeRaw?: boolean;
  output: "table" | "json";
}

const FAILED = "✗ FAILED HERE";

/** The failing mark, with the reason when the hop is a dead letter (the journal keeps it as `promoted.dead_letter`). */
function failedMark(hop: FluxHop): string {
  const reason = hop.promoted?.dead_letter;
  return typeof reason === "string" ? `${FAILED}: dead-lettered: ${reason}` : FAILED;
}

/** The first line: how many hops, over how long, on which racks, and where it failed. */
function summary(answer: FluxAnswer, colours: Palette): string {
  const hops = answer.messages;
  const racks = [...new Set(hops.map((hop) => hop.entity_name))];
  const failed = hops.find((hop) => hop.status === "error");
  const span = hops.at(-1)?.offset_ms ?? 0;
  const where = failed
    ? colours.red(`; failed at hop ${failed.hop} (${hopText(failed)} on ${failed.entity_name})`)
    : hops.length > 0
      ? colours.green("; every hop ok")
      : "";
  const over = hops.length > 0 ? ` over ${formatMs(span)} on ${racks.join(", ")}` : "";
  return `${colours.bold(`flux ${answer.flux_id}`)}: ${hops.length} hops${over}${where}\n`;
}

function hopTable(hops: readonly FluxHop[], colours: Palette): string {
  const rows = hops.map((hop) => [
    String(hop.hop),
    `+${formatMs(hop.offset_ms)}`,
    hop.entity_name,
    hopText(hop),
    hop.direction,
    hop.status,
    hop.msg_type,
    hop.spec ?? "generic",
    hop.status === "error" ? failedMark(hop) : "",
  ]);
  return textTable(
    [["HOP", "OFFSET", "RACK", "SRC → DST", "DIRECTION", "STATUS", "TYPE", "SPEC", ""], ...rows],
    (text, r, column) => {
      if (r === 0) return colours.bold(text);
      if (hops[r - 1]?.status === "error") return colours.red(text);
      return column === 1 ? colours.dim(text) : text;
    },
  );
}

/** The hop-by-hop story: the hops with timings and the failing one marked, then the span trees, then logs. */
function fluxStory(answer: FluxAnswer, colours: Palette): string {
  const parts = [summary(answer, colours)];
  if (answer.messages.length > 0) parts.push(hopTable(answer.messages, colours));
  else parts.push(colours.dim("no journaled messages in the window\n"));
  const traces = answer.trace_ids.length;
  parts.push(
    `\n${colours.bold(`spans`)} (${answer.spans.length} in ${traces} trace${traces === 1 ? "" : "s"}: ${answer.trace_ids.join(", ") || "none"})\n`,
  );
  if (answer.spans.length > 0) parts.push(spanTreeTable(answer.spans, colours));
  parts.push(`\n${colours.bold("logs")} (${answer.logs.length})\n`);
  if (answer.logs.length > 0) parts.push(logTable(answer.logs, colours));
  return parts.join("");
}

/** `fluxrig flux FLUX_ID`: one business signal end to end, as the operator opens it when a payment went wrong. */
export function addFluxCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: QueryIo,
): void {
  const flux = addMixerApiOptions(
    program
      .command("flux")
      .description(
        "follow one business signal end to end: its messages hop by hop (the failing hop marked), its trace's spans and its logs",
      )
      .argument("<flux_id>", "the flux id (a fluxMsg's id, a UUID v7), e.g. from `fluxrig messages`")
      .option(
        "--since <time>",
        "search from here (default: a minute before the time the flux id names); a duration back from now or an RFC 3339 time",
      )
      .option("--until <time>", "search until here (default: 15 minutes after the time the flux id names)")
      .option("--include-raw", "with --output json, also the stored fluxMsgs (raw_msg, base64)")
      .addOption(
        new Option("-o, --output <format>", "table (the story) or json (the API's answer)")
          .choices(["table", "json"])
          .default("table"),
      ),
  );
  flux.addHelpText(
    "after",
    `
The mixer reads only around the time the flux id names (a UUID v7 carries its creation time): a minute
before to 15 minutes after, so a lookup is fast however much is stored; --since/--until widen the search
for a flow that ran long.

Examples:
  fluxrig flux 0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b
  fluxrig messages --status error --since 1h -o ndjson | head -1   # find a failed one's flux_id
  fluxrig flux 0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b -o json | jq '.messages[] | select(.status == "error")'
`,
  );
  flux.action(async (fluxId: string, options: FluxOptions) => {
    const api = await queryApi(loadRack, options, io);
    const answer = await api.get<FluxAnswer>(
      apiPath(`/api/v1/flux/${encodeURIComponent(fluxId)}`, {
        since: options.since,
        until: options.until,
        include_raw: options.includeRaw ? "true" : undefined,
      }),
    );
    if (options.output === "json") io.out(`${JSON.stringify(answer, null, 2)}\n`);
    else io.out(fluxStory(answer, palette(io)));
    reportLimits(io, answer);
  });
}
