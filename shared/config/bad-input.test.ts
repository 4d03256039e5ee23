import { describe, expect, it } from "vitest";
import { type ConfigInput, loadConfig } from "./load.ts";
import { mixerConfigSchema } from "./mixer-schema.ts";
import { ConfigError } from "./provenance.ts";
import { rackConfigSchema } from "./rack-schema.ts";

const rack = (text: string, rest: Omit<ConfigInput, "file"> = {}): ConfigInput => ({
  file: { path: "fluxrig.toml", text },
  ...rest,
});
const mixer = (text: string, rest: Omit<ConfigInput, "file"> = {}): ConfigInput => ({
  file: { path: "fluxrig-mixer.toml", text },
  ...rest,
});

function errorOf(
  schema: typeof rackConfigSchema | typeof mixerConfigSchema,
  input: ConfigInput,
): ConfigError {
  try {
    loadConfig(schema, input);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected the config to be refused");
}

/** Each row: a bad input and the fragments its error must contain (culprit and location). */
const RACK_CASES: [string, ConfigInput, string[]][] = [
  ["unterminated string", rack('[base]\nname = "rack-a\n'), ["fluxrig.toml:2:", "not valid TOML"]],
  ["missing value", rack("[rack]\nmax_hops =\n"), ["fluxrig.toml:2:", "not valid TOML"]],
  ["duplicate key", rack("[rack]\nmax_hops = 1\nmax_hops = 2\n"), ["fluxrig.toml:3:", "not valid TOML"]],
  ["unclosed table header", rack("[rack\nmax_hops = 1\n"), ["fluxrig.toml:1:", "not valid TOML"]],
  [
    "unknown section",
    rack("[snak]\nurl = 'x'\n"),
    ["fluxrig.toml:1", "unknown key snak", "did you mean snake?"],
  ],
  [
    "misspelt key",
    rack("[rack]\nmax_hop = 3\n"),
    ["fluxrig.toml:2", "rack.max_hop", "did you mean rack.max_hops?"],
  ],
  [
    "key in the wrong section",
    rack("[rack]\nurl = 'nats://x'\n"),
    ["fluxrig.toml:2", "rack.url", "did you mean snake.url?"],
  ],
  [
    "unknown top-level key lists the sections",
    rack("zzz = 1\n"),
    ["fluxrig.toml:1", "unknown key zzz", "sections: logging"],
  ],
  ["section written as a value", rack("rack = 5\n"), ["fluxrig.toml:1", "rack is a table"]],
  [
    "string for an int",
    rack("[rack]\nmax_hops = 'many'\n"),
    ["fluxrig.toml:2", "rack.max_hops", "whole number", '"many"'],
  ],
  [
    "float for an int",
    rack("[rack]\nmax_hops = 6.5\n"),
    ["fluxrig.toml:2", "rack.max_hops", "whole number", "6.5"],
  ],
  [
    "int out of range",
    rack("[rack]\nmax_hops = 0\n"),
    ["fluxrig.toml:2", "rack.max_hops", "at least 1", "got 0"],
  ],
  [
    "bool as string",
    rack("[logging]\ncompress = 'yes'\n"),
    ["fluxrig.toml:2", "logging.compress", "true or false"],
  ],
  [
    "bad enum",
    rack("[logging]\nlevel = 'loud'\n"),
    ["fluxrig.toml:2", "logging.level", "one of trace, debug, info", '"loud"'],
  ],
  [
    "bad duration unit",
    rack("[rack]\nheartbeat_interval = '30 seconds'\n"),
    ["fluxrig.toml:2", "rack.heartbeat_interval", '"30 seconds"'],
  ],
  [
    "duration as a number",
    rack("[snake]\nconnect_timeout = 10\n"),
    ["fluxrig.toml:2", "snake.connect_timeout", "duration"],
  ],
  [
    "bad size",
    rack("[rack]\nmax_payload_size = '2 lightyears'\n"),
    ["fluxrig.toml:2", "rack.max_payload_size", "2MiB"],
  ],
  [
    "sampling rate above 1",
    rack("[observability]\nsampling_rate = 1.5\n"),
    ["fluxrig.toml:2", "observability.sampling_rate", "at most 1"],
  ],
  [
    "bad env int",
    { env: { FLUXRIG_RACK_MAX_HOPS: "lots" } },
    ["env FLUXRIG_RACK_MAX_HOPS", "rack.max_hops", '"lots"'],
  ],
  [
    "bad env bool",
    { env: { FLUXRIG_LOGGING_COMPRESS: "maybe" } },
    ["env FLUXRIG_LOGGING_COMPRESS", "true or false"],
  ],
  [
    "bad env duration",
    { env: { FLUXRIG_SNAKE_RECONNECT_WAIT: "soon" } },
    ["env FLUXRIG_SNAKE_RECONNECT_WAIT", "snake.reconnect_wait", '"soon"'],
  ],
  [
    "bad env enum",
    { env: { FLUXRIG_LOGGING_LEVEL: "verbose" } },
    ["env FLUXRIG_LOGGING_LEVEL", "logging.level", "verbose"],
  ],
  [
    "bad override value",
    { env: { FLUXRIG_TRACE: "please" } },
    ["env FLUXRIG_TRACE", "true or false", '"please"'],
  ],
  [
    "bad flag value",
    { flags: [{ key: "logging.level", flag: "--level", value: "chatty" }] },
    ["flag --level", "logging.level", "chatty"],
  ],
  [
    "bad flag int",
    { flags: [{ key: "rack.max_hops", flag: "--max-hops", value: "x1" }] },
    ["flag --max-hops", "whole number", '"x1"'],
  ],
];

const MIXER_CASES: [string, ConfigInput, string[]][] = [
  [
    "port out of range",
    mixer("[api]\nport = 70000\n"),
    ["fluxrig-mixer.toml:2", "api.port", "at most 65535"],
  ],
  [
    "empty subject list",
    mixer("[snake]\nstream_subjects = []\n"),
    ["fluxrig-mixer.toml:2", "snake.stream_subjects", "at least 1"],
  ],
  [
    "subjects not a list",
    mixer("[snake]\nstream_subjects = 'flux.>'\n"),
    ["snake.stream_subjects", "list of strings"],
  ],
  [
    "bad compression",
    mixer("[observability.embedded.storage]\ncompression = 'lz4'\n"),
    ["fluxrig-mixer.toml:2", "zstd, snappy, none"],
  ],
  [
    "json storage with a Parquet codec",
    mixer("[observability.embedded.storage]\nformat = 'json'\n"),
    [
      "observability.embedded.storage.compression",
      'with format = "json" only "none" is possible',
      'got "zstd"',
    ],
  ],
  [
    "zero flush interval",
    mixer("[ingest]\nflush_interval = '0s'\n"),
    ["fluxrig-mixer.toml:2", "ingest.flush_interval: expected a duration from 1s to 24h", 'got "0s"'],
  ],
  [
    "payload size beyond what NATS carries",
    { env: { FLUXRIG_MIXER_MAX_PAYLOAD_SIZE: "1GiB" } },
    [
      "env FLUXRIG_MIXER_MAX_PAYLOAD_SIZE",
      "mixer.max_payload_size: expected between 1024 and 67108864 bytes",
      '"1GiB"',
    ],
  ],
  ["bad tier", mixer("[observability]\ntier = 'cloud'\n"), ["observability.tier", "embedded, otlp"]],
  [
    "otlp tier without an HTTP collector",
    mixer("[observability]\ntier = 'otlp'\n"),
    ["observability.otlp.endpoint_http", 'tier = "otlp" needs a collector'],
  ],
  [
    "a gRPC collector for the mixer",
    mixer("[observability.otlp]\nendpoint = '127.0.0.1:4317'\n"),
    ["fluxrig-mixer.toml:2", "observability.otlp.endpoint", "cannot speak gRPC", "endpoint_http"],
  ],
  [
    "unverified TLS for the mixer's collector",
    mixer("[observability.otlp]\ninsecure = true\n"),
    ["fluxrig-mixer.toml:2", "observability.otlp.insecure", "always verifies TLS"],
  ],
  [
    "the rack's local messages on the mixer",
    mixer("[observability.otlp.messages]\nenabled = true\n"),
    ["fluxrig-mixer.toml:2", "observability.otlp.messages.enabled", "the rack's", "R2 messages/"],
  ],
  [
    "bad env JSON list",
    { env: { FLUXRIG_SNAKE_STREAM_SUBJECTS: '["a", 1' } },
    ["env FLUXRIG_SNAKE_STREAM_SUBJECTS", "JSON array"],
  ],
  [
    "bad env map",
    { env: { FLUXRIG_OBSERVABILITY_OTLP_HEADERS: "novalue" } },
    ["FLUXRIG_OBSERVABILITY_OTLP_HEADERS", "name=value"],
  ],
];

describe("bad input is refused with the culprit and its location", () => {
  it.each(RACK_CASES)("rack: %s", (_name, input, fragments) => {
    const message = errorOf(rackConfigSchema, input).message;
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it.each(MIXER_CASES)("mixer: %s", (_name, input, fragments) => {
    const message = errorOf(mixerConfigSchema, input).message;
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it("reports every problem at once, not only the first", () => {
    const error = errorOf(
      rackConfigSchema,
      rack("[rack]\nmax_hop = 3\nheartbeat_interval = 'x'\n[logging]\nlevel = 'loud'\n", {
        env: {
          FLUXRIG_SNAKE_URL: "nats://ok",
          FLUXRIG_BASE_STATE_DIRR: "/tmp",
          FLUXRIG_LOGGING_MAX_BACKUPS: "-",
        },
      }),
    );
    expect(error.problems).toHaveLength(4);
    expect(error.message).toContain("warning: FLUXRIG_BASE_STATE_DIRR is not a setting");
  });
});
