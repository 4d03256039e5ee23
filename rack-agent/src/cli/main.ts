import { runCli } from "../../../shared/cli/run-cli.ts";
import { buildRackProgram } from "./program.ts";

const io = {
  out: (text: string) => process.stdout.write(text),
  err: (text: string) => process.stderr.write(text),
  env: process.env,
  isTTY: process.stderr.isTTY === true,
};
await runCli(buildRackProgram(io), process.argv, {
  err: io.err,
  exit: (code) => {
    process.exitCode = code;
  },
});
