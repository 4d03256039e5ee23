import { COMMON_CONFIG_FLAGS, type ConfigFlag } from "../../shared/cli/config-flags.ts";

/** Flags of `fluxrig-mixer` that set mixer config keys (highest precedence). */
export const MIXER_CONFIG_FLAGS: readonly ConfigFlag[] = [
  ...COMMON_CONFIG_FLAGS,
  { syntax: "--port <port>", key: "api.port", description: "HTTP API port (api.port)" },
  { syntax: "--snake-port <port>", key: "snake.port", description: "embedded NATS client port (snake.port)" },
  {
    syntax: "--store-dir <dir>",
    key: "store.dir",
    description: "where D1, R2 and Durable Objects persist (store.dir)",
  },
];
