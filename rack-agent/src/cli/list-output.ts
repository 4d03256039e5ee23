import { Option } from "commander";
import { OUTPUTS, type Output } from "./telemetry/query-command.ts";

export type { Output };

/**
 * `-o, --output table|json|ndjson`, the one convention of every command that prints a list.
 *
 * @example command.addOption(outputOption())
 */
export const outputOption = () =>
  new Option("-o, --output <format>", "table, json (the API's answer) or ndjson (one line each)")
    .choices(OUTPUTS)
    .default("table");

/**
 * Prints a list as `output` asks: the API's whole answer as JSON, its rows one JSON line each, or `text()`.
 *
 * @example printList(io, options.output, answer.tokens, answer, () => table(rows))
 */
export function printList(
  io: { out: (text: string) => void },
  output: Output,
  rows: unknown[],
  answer: unknown,
  text: () => string,
): void {
  if (output === "json") io.out(`${JSON.stringify(answer, null, 2)}\n`);
  else if (output === "ndjson") io.out(rows.map((row) => `${JSON.stringify(row)}\n`).join(""));
  else io.out(text());
}
