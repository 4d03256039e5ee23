import { z } from "zod";
import { bool, duration, int, section, size, str } from "./fields.ts";
import {
  baseSection,
  connectSection,
  logLevel,
  observabilitySection,
  throttlingSection,
} from "./sections.ts";

/**
 * `fluxrig.toml`: the rack agent's configuration, field for field as the reference's rack tables.
 * [observability] is shared with the mixer so a rack can sample traces and switch self-monitoring off.
 */
export const rackConfigSchema = z.object({
  logging: section({
    level: logLevel(),
    filename: str("logs/fluxrig.log", "Path to log file."),
    max_size_mb: int(100, 1),
    max_backups: int(7),
    compress: bool(true),
    trace: bool(false),
    debug: bool(false),
    throttling: throttlingSection,
  }),
  base: baseSection,
  rack: section({
    name_prefix: str("node-", "Ephemeral Prefix. Used if base.name is empty."),
    ip: str("", "Manual IP Override. If empty, the Rack autodetects its local primary IP."),
    max_hops: int(64, 1, 1024),
    max_payload_size: size(2_097_152),
    enrollment_timeout: duration("15s"),
    heartbeat_interval: duration("30s"),
  }),
  store: section({
    dir: str("./data", "Root directory for data storage."),
  }),
  snake: connectSection,
  observability: observabilitySection,
});

export type RackConfig = z.infer<typeof rackConfigSchema>;
