import { runCli } from "../../../shared/cli/run-cli.ts";
import { mapBundleStackTraces } from "./bundle-stack-traces.ts";
import { CliLog } from "./cli-log.ts";
import { buildRackProgram } from "./program.ts";

// Bundled, import.meta.url is the bundle's: its stack traces read the map beside it when one is formatted.
mapBundleStackTraces(import.meta.url);

// `fluxrig logs | head` closes the pipe early: that is the reader being done, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const cliLog = new CliLog();
const io = {
  out: (text: string) => process.stdout.write(text),
  err: (text: string) => {
    cliLog.stderr(text);
    return process.stderr.write(text);
  },
  env: process.env,
  isTTY: process.stderr.isTTY === true,
  cliLog,
};
await runCli(buildRackProgram(io), process.argv, {
  err: io.err,
  exit: (code) => {
    process.exitCode = code;
  },
});
await cliLog.close(Number(process.exitCode ?? 0));
