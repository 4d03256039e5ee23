import type { Command } from "commander";
import { ConfigError } from "../config/provenance.ts";
import { redactUrls } from "../redact/url-credentials.ts";

/**
 * Runs a commander program and turns failures into one readable message and an exit status:
 * 2 for configuration and usage errors, 1 for anything else. Only the message is printed, never a stack,
 * and URL credentials in it are masked (a failure to connect quotes the URL it dialled).
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
      io.err(`${program.name()}: ${redactUrls(error instanceof Error ? error.message : String(error))}\n`);
      io.exit(1);
    }
  }
}
