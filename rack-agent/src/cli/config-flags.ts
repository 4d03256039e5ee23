import { COMMON_CONFIG_FLAGS, type ConfigFlag } from "../../../shared/cli/config-flags.ts";

/** Flags of `fluxrig` that set rack config keys (highest precedence). */
export const RACK_CONFIG_FLAGS: readonly ConfigFlag[] = [
  ...COMMON_CONFIG_FLAGS,
  { syntax: "--name <name>", key: "base.name", description: "rack name; claims this identity (base.name)" },
  {
    syntax: "--state-dir <dir>",
    key: "base.state_dir",
    description: "state and WAL directory (base.state_dir)",
  },
  { syntax: "--snake-url <url>", key: "snake.url", description: "NATS URL, nats:// or ws:// (snake.url)" },
];
