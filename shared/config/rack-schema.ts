import * as z from "zod";
import { isEntityName } from "../telemetry/entity-name.ts";
import {
  bool,
  duration,
  entityNamePrefix,
  int,
  ipAddress,
  secret,
  section,
  size,
  str,
  stringMap,
} from "./fields.ts";
import {
  baseSection,
  connectSection,
  logLevel,
  observabilityShape,
  otlpSection,
  throttlingSection,
} from "./sections.ts";

/**
 * `fluxrig.toml`: the rack agent's configuration, field for field as the reference's rack tables.
 * [observability] is shared with the mixer so a rack can sample traces, switch self-monitoring off, and export
 * to an OTLP collector (`tier = "otlp"`, [observability.otlp]).
 */
export const rackConfigSchema = z.object({
  logging: section({
    level: logLevel(),
    filename: str(
      "logs/fluxrig.log",
      'Path to log file; relative to base.state_dir; left at the default the rack writes logs/fluxrig-rack.log; "" for none.',
    ),
    max_size_mb: int(100, 1, 1_048_576),
    max_backups: int(7, 0, 1_000),
    compress: bool(true),
    trace: bool(false),
    debug: bool(false),
    throttling: throttlingSection,
  }),
  base: baseSection,
  rack: section({
    name_prefix: entityNamePrefix("node-", "Ephemeral Prefix. Used if base.name is empty."),
    ip: ipAddress("Manual IP Override. If empty, the Rack autodetects its local primary IP."),
    max_hops: int(64, 1, 1024),
    max_payload_size: size(2_097_152, 1_024, 64 * 1_048_576),
    enrollment_timeout: duration("15s", "100ms"),
    heartbeat_interval: duration("30s", "100ms"),
    bootstrap_token: secret(
      "Bootstrap token that admits this rack at enrollment (FLUXRIG_RACK_BOOTSTRAP_TOKEN); the mixer prints it.",
    ),
    cluster_key_fingerprint: z
      .string()
      .refine((text) => text === "" || /^SHA256:[0-9a-f]{64}$/.test(text), {
        message: 'expected "SHA256:" and 64 lowercase hex digits, as GET /api/v1/cluster-key shows it',
      })
      .default("")
      .meta({
        description:
          "Pins the mixer's cluster key (SHA256:<hex>); empty trusts the key met at first enrollment.",
      }),
    labels: stringMap(
      {
        name: (name) => name.length <= 63 && isEntityName(name),
        nameAllowed: '1 to 63 letters, digits, ".", "_" or "-"',
        valueMax: 253,
      },
      'Labels the registry shows for this rack, e.g. { site = "nyc" }.',
    ),
  }),
  store: section({
    dir: str("./data", "Root directory for data storage."),
    wal_max_size_mb: int(512, 1, 1_048_576).meta({
      description:
        "Max size of the rack's spool (write-ahead log) in MiB; the oldest records are dropped past it.",
    }),
  }),
  snake: connectSection,
  observability: z
    .object({ ...observabilityShape, otlp: otlpSection })
    .superRefine((observability, ctx) => {
      const { endpoint, endpoint_http } = observability.otlp;
      if (observability.tier === "otlp" && endpoint === "" && endpoint_http === "") {
        ctx.addIssue({
          code: "custom",
          path: ["otlp", "endpoint"],
          message:
            'tier = "otlp" needs a collector: observability.otlp.endpoint (gRPC, e.g. 127.0.0.1:4317) or observability.otlp.endpoint_http',
        });
      }
    })
    .prefault({} as never),
});

export type RackConfig = z.infer<typeof rackConfigSchema>;
