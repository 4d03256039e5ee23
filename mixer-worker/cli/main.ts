import { runCli } from "../../shared/cli/run-cli.ts";
import { buildMixerProgram } from "./program.ts";

const io = {
  out: (text: string) => process.stdout.write(text),
  err: (text: string) => process.stderr.write(text),
  env: process.env,
  stdoutIsTty: process.stdout.isTTY === true,
};
await runCli(buildMixerProgram(io), process.argv, {
  err: io.err,
  exit: (code) => {
    process.exitCode = code;
  },
});
