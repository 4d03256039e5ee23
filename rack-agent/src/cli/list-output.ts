import { Option } from "commander";
import { OUTPUTS, type Output } from "./telemetry/query-command.ts";

/** `-o, --output table|json|ndjson`, as every command that prints records or a list takes it. */
export const outputOption = () =>
  new Option("-o, --output <format>", "table, json (the API's answer) or ndjson (one line each)")
    .choices(OUTPUTS)
    .default("table");

/**
 * Prints an API answer as `output` asks: json is the answer itself, ndjson one line per row, table the text.
 *
 * @example printOutput(io, options.output, answer.specs, answer, () => table(rows));
 */
export function printOutput(
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
