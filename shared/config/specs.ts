import type { ConfigSpec } from "./config-file.ts";
import { mixerConfigSchema } from "./mixer-schema.ts";
import { rackConfigSchema } from "./rack-schema.ts";

export const rackConfigSpec: ConfigSpec<typeof rackConfigSchema> = {
  schema: rackConfigSchema,
  fileName: "fluxrig.toml",
};
export const mixerConfigSpec: ConfigSpec<typeof mixerConfigSchema> = {
  schema: mixerConfigSchema,
  fileName: "fluxrig-mixer.toml",
};
