import type { Command } from "commander";
import { ConfigError } from "../config/provenance.ts";

/**
 * Runs a commander program and turns failures into one readable message and an exit status:
 * 2 for configuration and usage errors, 1 for anything else.
 */
export async function runCli(
  program: Command,
  argv: string[],
  io: { err: (text: string) => void; exit: (code: number) => void },
): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`${program.name()}: ${error.message}\n`);
      io.exit(2);
    } else if (error && typeof error === "object" && "exitCode" in error && "code" in error) {
      // commander already printed its message; help and version exit 0, usage errors are status 2.
      io.exit(Number(error.exitCode) === 0 ? 0 : 2);
    } else {
      io.err(`${program.name()}: ${error instanceof Error ? error.message : String(error)}\n`);
      io.exit(1);
    }
  }
}
