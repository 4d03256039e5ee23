import * as z from "zod";
import {
  bool,
  duration,
  int,
  oneOf,
  port,
  secret,
  section,
  size,
  str,
  streamSubjects,
  url,
} from "./fields.ts";
import {
  baseSection,
  DEFAULT_MESSAGES_DIR,
  logLevel,
  observabilityShape,
  otlpSection,
  snakeClientShape,
} from "./sections.ts";

/** A stream's age is not a timer: JetStream keeps nanoseconds in 64 bits. Ten years is plenty. */
const STREAM_MAX_AGE_MAX = "87600h";

/** `fluxrig-mixer.toml`: the mixer's configuration, field for field as the reference's mixer tables. */
export const mixerConfigSchema = z.object({
  logging: section({
    level: logLevel(),
    filename: str("logs/mixer.log", "Path to log file."),
    max_backups: int(7, 0, 1_000),
  }),
  base: baseSection,
  mixer: section({
    max_hops: int(64, 1, 1024),
    max_payload_size: size(2_097_152, 1_024, 64 * 1_048_576),
    startup_scenario: str("", "Scenario reference to load on startup."),
    scenario_wait_timeout: duration("15s"),
  }),
  enrollment: section({
    auto_adopt: bool(false),
    push_delay: duration("1s"),
    bootstrap_token: secret(
      "Token a rack must know to enroll (FLUXRIG_ENROLLMENT_BOOTSTRAP_TOKEN); generated under the store dir when unset.",
    ),
  }),
  ingest: section({
    flush_interval: duration("5s", "1s"),
    buffer_size: int(1024, 1, 65_536),
    // Ours, beyond the reference: how many bridges pull the ingest consumers (mixer-worker/src/bridge/ingest-bridges.ts).
    bridges: int(1, 1, 16),
  }),
  api: section({
    port: port(8090),
    token: secret("Bearer token for the API (FLUXRIG_API_TOKEN); generated under the store dir when unset."),
  }),
  store: section({
    dir: str("./data", "Root directory for data storage."),
    database_file: str("fluxrig.duckdb", "DB filename (relative to store dir)."),
    cluster_key_file: str("cluster.key", "Key filename (relative to store dir)."),
    wal_max_size_mb: int(512, 1, 1_048_576),
  }),
  snake: section({
    port: port(4222),
    ...snakeClientShape,
    stream_subjects: streamSubjects(["flux.msg.>", "flux.gear.>", "fluxrig.>"]),
    business_stream_max_age: duration("720h", "1m", STREAM_MAX_AGE_MAX),
    telemetry_stream_max_age: duration("24h", "1m", STREAM_MAX_AGE_MAX),
    durable: bool(false),
    auth: oneOf(["none", "jwt"], "jwt"),
    user_jwt_ttl: duration("24h", "10s"),
    websocket_url: url(
      "ws://127.0.0.1:4223",
      { schemes: ["ws", "wss"] },
      "Websocket URL of the NATS server that the mixer's Snake bridge dials (Workers cannot speak raw TCP).",
    ),
  }),
  observability: section({
    ...observabilityShape,
    embedded: section({
      data_dir: str("./data/telemetry"),
      flush_interval: duration("5s", "1s"),
      storage: z
        .object({
          format: oneOf(["parquet", "json"], "parquet"),
          partition_by: oneOf(["hour", "day"], "hour"),
          compression: oneOf(["zstd", "snappy", "none"], "zstd"),
        })
        .superRefine((storage, ctx) => {
          // The Worker has no zstd or snappy stream encoder: those codecs exist only inside Parquet.
          if (storage.format === "json" && storage.compression !== "none") {
            ctx.addIssue({
              code: "custom",
              path: ["compression"],
              message: 'with format = "json" only "none" is possible (zstd and snappy are Parquet codecs)',
            });
          }
        })
        .prefault({} as never),
      rotation: section({
        policy: oneOf(["time", "size", "both"], "time"),
        max_age_days: int(30, 1, 36_500),
        max_size_gb: int(10, 1, 1_048_576),
        check_interval: duration("1h", "1m"),
      }),
      // Ours, beyond the reference: merging each partition's flush objects (store/compaction/).
      compaction: section({
        enabled: bool(true),
        check_interval: duration("1m", "10s", "24h"),
        min_objects: int(32, 2, 1_000),
      }),
    }),
    otlp: otlpSection,
  }).superRefine((observability, ctx) => {
    for (const issue of mixerOtlpIssues(observability.tier, observability.otlp)) {
      ctx.addIssue({ code: "custom", ...issue });
    }
  }),
});

/**
 * What of `[observability.otlp]` the mixer cannot do, as issues: it exports its own telemetry over OTLP/HTTP
 * only (a Worker's fetch cannot carry gRPC, nor skip TLS verification), and it keeps journal records in R2's
 * `messages/` on every tier, so `[observability.otlp.messages]` (the rack's local copy) has no meaning here.
 */
function mixerOtlpIssues(
  tier: string,
  otlp: z.infer<typeof otlpSection>,
): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  if (otlp.endpoint !== "") {
    issues.push({
      path: ["otlp", "endpoint"],
      message:
        "the mixer runs on Workers, which cannot speak gRPC: set observability.otlp.endpoint_http instead",
    });
  } else if (tier === "otlp" && otlp.endpoint_http === "") {
    issues.push({
      path: ["otlp", "endpoint_http"],
      message:
        'tier = "otlp" needs a collector: observability.otlp.endpoint_http (OTLP/HTTP, e.g. http://127.0.0.1:4318)',
    });
  }
  if (otlp.insecure) {
    issues.push({
      path: ["otlp", "insecure"],
      message:
        "the mixer's fetch always verifies TLS: use an http:// endpoint_http or a certificate the Worker trusts",
    });
  }
  if (otlp.messages.enabled || otlp.messages.data_dir !== DEFAULT_MESSAGES_DIR) {
    issues.push({
      path: ["otlp", "messages", otlp.messages.enabled ? "enabled" : "data_dir"],
      message:
        "[observability.otlp.messages] is the rack's: the mixer stores journal records in R2 messages/ on every tier",
    });
  }
  return issues;
}

export type MixerConfig = z.infer<typeof mixerConfigSchema>;
