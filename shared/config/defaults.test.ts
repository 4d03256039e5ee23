import { describe, expect, it } from "vitest";
import { loadConfig } from "./load.ts";
import { mixerConfigSchema } from "./mixer-schema.ts";
import { rackConfigSchema } from "./rack-schema.ts";

/** The reference's tables, transcribed: key → default as written there. */

/** `[observability.otlp]`: one section, shared by the rack and the mixer. */
const OTLP_DEFAULTS: Record<string, unknown> = {
  "observability.otlp.endpoint": "",
  "observability.otlp.endpoint_http": "",
  "observability.otlp.headers": {},
  "observability.otlp.insecure": false,
  "observability.otlp.timeout": "30s",
  "observability.otlp.messages.enabled": false,
  "observability.otlp.messages.data_dir": "./data/messages",
};

const RACK_DEFAULTS: Record<string, unknown> = {
  "logging.level": "info",
  "logging.filename": "logs/fluxrig.log",
  "logging.max_size_mb": 100,
  "logging.max_backups": 7,
  "logging.compress": true,
  "logging.trace": false,
  "logging.debug": false,
  "logging.throttling.enabled": true,
  "logging.throttling.rate": 500.0,
  "logging.throttling.burst": 50,
  "base.name": "node-01",
  "base.state_dir": "./data",
  "base.state_file": "rack.flux",
  "rack.name_prefix": "node-",
  "rack.ip": "",
  "rack.max_hops": 64,
  "rack.max_payload_size": 2097152,
  "rack.enrollment_timeout": "15s",
  "rack.heartbeat_interval": "30s",
  // Ours: enrollment needs a bootstrap token and may pin the cluster key; labels show in the registry.
  "rack.bootstrap_token": undefined,
  "rack.cluster_key_fingerprint": "",
  "rack.labels": {},
  "store.dir": "./data",
  // The reference names it under [Store] (embedded) without a default; the mixer's 512 holds for the rack.
  "store.wal_max_size_mb": 512,
  "snake.url": "nats://localhost:4222",
  "snake.domain": "flux",
  "snake.stream_name": "flux-msg",
  "snake.connect_timeout": "10s",
  "snake.reconnect_wait": "1s",
  "snake.convergence_delay": "100ms",
  // Ours: the bus's enrollment credential under operator mode (a secret, environment only).
  "snake.enrollment_token": undefined,
  // Ours: TLS to nats-server (a private CA, a client certificate).
  "snake.tls_ca_file": "",
  "snake.tls_cert_file": "",
  "snake.tls_key_file": "",
  "observability.enabled": true,
  "observability.tier": "embedded",
  "observability.sampling_rate": 1.0,
  ...OTLP_DEFAULTS,
};

const MIXER_DEFAULTS: Record<string, unknown> = {
  "logging.level": "info",
  "logging.filename": "logs/mixer.log",
  "logging.max_backups": 7,
  "base.name": "node-01",
  "base.state_dir": "./data",
  "base.state_file": "rack.flux",
  "mixer.max_hops": 64,
  "mixer.max_payload_size": 2097152,
  "mixer.startup_scenario": "",
  "mixer.scenario_wait_timeout": "15s",
  "enrollment.auto_adopt": false,
  "enrollment.push_delay": "1s",
  // Ours: the secret a rack proves it knows when it enrolls.
  "enrollment.bootstrap_token": undefined,
  "ingest.flush_interval": "5s",
  "ingest.buffer_size": 1024,
  "ingest.bridges": 1,
  "api.port": 8090,
  "api.token": undefined,
  "store.dir": "./data",
  "store.database_file": "fluxrig.duckdb",
  "store.cluster_key_file": "cluster.key",
  "store.wal_max_size_mb": 512,
  "snake.port": 4222,
  "snake.url": "nats://localhost:4222",
  "snake.domain": "flux",
  "snake.stream_name": "flux-msg",
  "snake.stream_subjects": ["flux.msg.>", "flux.gear.>", "fluxrig.>"],
  "snake.business_stream_max_age": "720h",
  "snake.telemetry_stream_max_age": "24h",
  "snake.durable": false,
  // Ours: per-rack bus credentials (nats-server operator mode) and the lifetime of a rack's user JWT.
  "snake.auth": "jwt",
  "snake.user_jwt_ttl": "24h",
  // Ours: the Worker reaches NATS over its websocket listener.
  "snake.websocket_url": "ws://127.0.0.1:4223",
  "observability.enabled": true,
  "observability.tier": "embedded",
  "observability.sampling_rate": 1.0,
  "observability.embedded.data_dir": "./data/telemetry",
  "observability.embedded.flush_interval": "5s",
  "observability.embedded.storage.format": "parquet",
  "observability.embedded.storage.partition_by": "hour",
  "observability.embedded.storage.compression": "zstd",
  "observability.embedded.rotation.policy": "time",
  "observability.embedded.rotation.max_age_days": 30,
  "observability.embedded.rotation.max_size_gb": 10,
  "observability.embedded.rotation.check_interval": "1h",
  // Ours: compaction of each partition's flush objects.
  "observability.embedded.compaction.enabled": true,
  "observability.embedded.compaction.check_interval": "1m",
  "observability.embedded.compaction.min_objects": 32,
  ...OTLP_DEFAULTS,
};

describe("defaults match the reference tables", () => {
  it.each([
    ["fluxrig.toml", rackConfigSchema, RACK_DEFAULTS],
    ["fluxrig-mixer.toml", mixerConfigSchema, MIXER_DEFAULTS],
  ] as const)("%s: every key, its default, and nothing else", (_name, schema, expected) => {
    const { entries } = loadConfig(schema, {});
    expect(Object.fromEntries(entries.map((e) => [e.key, e.value]))).toEqual(expected);
    expect(entries.every((e) => e.source.kind === "default")).toBe(true);
  });

  it("parses durations to milliseconds and sizes to bytes", () => {
    const { config } = loadConfig(rackConfigSchema, {});
    expect(config.rack.enrollment_timeout).toBe(15_000);
    expect(config.rack.heartbeat_interval).toBe(30_000);
    expect(config.snake.convergence_delay).toBe(100);
    expect(config.rack.max_payload_size).toBe(2 * 1024 * 1024);
    const mixer = loadConfig(mixerConfigSchema, {}).config;
    expect(mixer.snake.business_stream_max_age).toBe(720 * 3_600_000);
    expect(mixer.observability.embedded.rotation.check_interval).toBe(3_600_000);
  });

  it("reads the reference's mixer example unchanged", () => {
    const text = `[base]\nname = "mixer-prod-01"\n[logging]\nlevel = "info"\n[mixer]\nstartup_scenario = "scenario_prod.yaml"\n[api]\nport = 8090\n[store]\ndir = "./data"\n[snake]\nport = 4222\nurl = "nats://localhost:4222"\ndomain = "flux"\n[observability]\nenabled = true\ntier = "embedded"\nsampling_rate = 1.0\n[observability.embedded]\nflush_interval = "5s"\n[observability.embedded.storage]\nformat = "parquet"\npartition_by = "hour"\ncompression = "zstd"\n[observability.embedded.rotation]\npolicy = "both"\nmax_age_days = 30\nmax_size_gb = 10\ncheck_interval = "1h"\n`;
    const { config } = loadConfig(mixerConfigSchema, { file: { path: "fluxrig-mixer.toml", text } });
    expect(config.base.name).toBe("mixer-prod-01");
    expect(config.mixer.startup_scenario).toBe("scenario_prod.yaml");
    expect(config.observability.embedded.rotation.policy).toBe("both");
  });
});
