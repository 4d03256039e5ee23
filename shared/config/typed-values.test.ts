import { describe, expect, it } from "vitest";
import { type ConfigInput, loadConfig } from "./load.ts";
import { mixerConfigSchema } from "./mixer-schema.ts";
import { ConfigError } from "./provenance.ts";
import { rackConfigSchema } from "./rack-schema.ts";

type Schema = typeof rackConfigSchema | typeof mixerConfigSchema;
const rack = (text: string): ConfigInput => ({ file: { path: "fluxrig.toml", text } });
const mixer = (text: string): ConfigInput => ({ file: { path: "fluxrig-mixer.toml", text } });

function refusal(schema: Schema, input: ConfigInput): string {
  try {
    loadConfig(schema, input);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected the config to be refused");
}

/** Each row: what a hostile tester wrote, and fragments the refusal must hold (key, line, what is allowed). */
const REFUSED: [string, Schema, ConfigInput, string[]][] = [
  [
    "not a url",
    rackConfigSchema,
    rack('[snake]\nurl = "not a url"\n'),
    ["fluxrig.toml:2: snake.url: expected a URL nats://, tls://, ws:// or wss://: it is not a URL"],
  ],
  [
    "file: URL",
    rackConfigSchema,
    rack('[snake]\nurl = "file:///etc/passwd"\n'),
    ["snake.url", "the scheme is not allowed", '"file:///etc/passwd"'],
  ],
  [
    "javascript: URL",
    mixerConfigSchema,
    mixer('[snake]\nwebsocket_url = "javascript:alert(1)"\n'),
    ["fluxrig-mixer.toml:2: snake.websocket_url: expected a URL ws:// or wss://: it is not a URL"],
  ],
  [
    "ftp://x websocket",
    mixerConfigSchema,
    mixer('[snake]\nwebsocket_url = "ftp://x"\n'),
    ["snake.websocket_url: expected a URL ws:// or wss://: the scheme is not allowed", '"ftp://x"'],
  ],
  [
    "nats:// for the websocket",
    mixerConfigSchema,
    mixer('[snake]\nwebsocket_url = "nats://127.0.0.1:4222"\n'),
    ["snake.websocket_url", "the scheme is not allowed"],
  ],
  [
    "a list of servers",
    rackConfigSchema,
    rack('[snake]\nurl = "nats://a:4222,nats://b:4222"\n'),
    ["snake.url", "one URL, not a list", "learns the other servers"],
  ],
  [
    "a port past 65535",
    rackConfigSchema,
    { env: { FLUXRIG_SNAKE_URL: "nats://h:99999" } },
    ["env FLUXRIG_SNAKE_URL: snake.url", "not a valid URL"],
  ],
  [
    "an OTLP endpoint of another scheme",
    mixerConfigSchema,
    mixer('[observability.otlp]\nendpoint_http = "ftp://collector:4318"\n'),
    ['observability.otlp.endpoint_http: expected a URL http:// or https://, or host:port, or "" (off)'],
  ],
  [
    "an OTLP endpoint that is only a host",
    mixerConfigSchema,
    mixer('[observability.otlp]\nendpoint = "collector"\n'),
    ["observability.otlp.endpoint", "it is not a URL"],
  ],
  [
    "a 100,000-character name",
    rackConfigSchema,
    rack(`[base]\nname = "${"x".repeat(100_000)}"\n`),
    ['fluxrig.toml:2: base.name: expected 1 to 253 letters, digits, ".", "_" or "-"', "(100002 characters)"],
  ],
  [
    "a NUL byte in a name",
    rackConfigSchema,
    rack('[base]\nname = "rack\\u0000nyc"\n'),
    ["base.name", 'got "rack\\u0000nyc"'],
  ],
  [
    "an escape sequence in a name",
    rackConfigSchema,
    rack('[base]\nname = "\\u001b[31mred"\n'),
    ["base.name", 'got "\\u001b[31mred"'],
  ],
  [
    "a space in a name prefix",
    rackConfigSchema,
    rack('[rack]\nname_prefix = "rack "\n'),
    ["rack.name_prefix"],
  ],
  [
    "a dot in a stream name",
    mixerConfigSchema,
    mixer('[snake]\nstream_name = "a.b"\n'),
    ["snake.stream_name", "no dots"],
  ],
  ["an empty domain", mixerConfigSchema, mixer('[snake]\ndomain = ""\n'), ["snake.domain", "1 to 253"]],
  [
    "a duration of 10^20 hours",
    rackConfigSchema,
    rack('[rack]\nheartbeat_interval = "100000000000000000000h"\n'),
    ["fluxrig.toml:2: rack.heartbeat_interval: expected a duration from 100ms to 24h"],
  ],
  [
    "1e20h",
    rackConfigSchema,
    rack('[rack]\nheartbeat_interval = "1e20h"\n'),
    ["rack.heartbeat_interval", 'expected a duration such as "100ms"', 'got "1e20h"'],
  ],
  [
    "a timer past what Node can arm",
    mixerConfigSchema,
    { env: { FLUXRIG_INGEST_FLUSH_INTERVAL: "30d" } },
    ["env FLUXRIG_INGEST_FLUSH_INTERVAL: ingest.flush_interval: expected a duration from 1s to 24h"],
  ],
  [
    "a stream max age past ten years",
    mixerConfigSchema,
    mixer('[snake]\nbusiness_stream_max_age = "100000h"\n'),
    ["snake.business_stream_max_age: expected a duration from 1m to 87600h"],
  ],
  [
    "max_age_days = 1e9",
    mixerConfigSchema,
    mixer("[observability.embedded.rotation]\nmax_age_days = 1000000000\n"),
    [
      "fluxrig-mixer.toml:2: observability.embedded.rotation.max_age_days: expected a whole number at most 36500",
    ],
  ],
  [
    "a count past its bound",
    mixerConfigSchema,
    { env: { FLUXRIG_INGEST_BUFFER_SIZE: "99999999999999999999" } },
    ["ingest.buffer_size: expected a whole number at most 65536"],
  ],
  [
    "inf for a number",
    rackConfigSchema,
    rack("[logging.throttling]\nrate = inf\n"),
    ["logging.throttling.rate: expected a number", "got Infinity"],
  ],
  [
    "nan for a whole number",
    rackConfigSchema,
    rack("[rack]\nmax_hops = nan\n"),
    ["rack.max_hops", "got NaN"],
  ],
  [
    "a size past its bound",
    rackConfigSchema,
    rack(`[rack]\nmax_payload_size = "${"9".repeat(400)}GiB"\n`),
    ["rack.max_payload_size: expected a byte count"],
  ],
  [
    'stream_subjects [">"]',
    mixerConfigSchema,
    mixer('[snake]\nstream_subjects = [">"]\n'),
    ["fluxrig-mixer.toml:2: snake.stream_subjects: entry 1: it would capture flux.ctl.>: the control plane"],
  ],
  [
    "stream_subjects that capture everything of two tokens or more",
    mixerConfigSchema,
    { env: { FLUXRIG_SNAKE_STREAM_SUBJECTS: "flux.msg.>,*.>" } },
    ["env FLUXRIG_SNAKE_STREAM_SUBJECTS: snake.stream_subjects: entry 2: it would capture flux.ctl.>"],
  ],
  [
    "stream_subjects on the telemetry stream's subjects",
    mixerConfigSchema,
    mixer('[snake]\nstream_subjects = ["flux.telemetry.>"]\n'),
    ["snake.stream_subjects: entry 1: it would capture flux.telemetry.>"],
  ],
  [
    "invalid subjects",
    mixerConfigSchema,
    mixer('[snake]\nstream_subjects = ["orders created", "a..b"]\n'),
    ["entry 1: not a valid NATS subject: a subject has no spaces", "entry 2: not a valid NATS subject"],
  ],
  [
    "a header value that would split the request",
    mixerConfigSchema,
    mixer('[observability.otlp]\nheaders = { "x-team" = "a\\r\\nx-evil: 1" }\n'),
    [
      'observability.otlp.headers: entry "x-team": expected a value of at most 8192 characters, without control',
    ],
  ],
  [
    "a header name that is not one",
    mixerConfigSchema,
    mixer('[observability.otlp]\nheaders = { "x team" = "a" }\n'),
    ['entry "x team": its name is not an HTTP header name'],
  ],
  [
    "a path with a NUL byte",
    rackConfigSchema,
    rack('[base]\nstate_dir = "/tmp/\\u0000"\n'),
    ["base.state_dir"],
  ],
  ["an IP that is not one", rackConfigSchema, rack('[rack]\nip = "10.0.0"\n'), ["rack.ip: expected an IPv4"]],
];

describe("every typed value is checked", () => {
  it.each(REFUSED)("refuses %s", (_name, schema, input, fragments) => {
    const message = refusal(schema, input);
    for (const fragment of fragments) expect(message).toContain(fragment);
    // Control characters reach no terminal, and a megabyte of input is not repeated.
    expect(message).not.toMatch(/(?!\n)\p{Cc}/u);
    expect(message.length).toBeLessThan(2_000);
  });

  it("accepts each URL form a key allows", () => {
    for (const url of ["nats://h:4222", "tls://h:4222", "ws://h:4223", "wss://u:p@h/", "nats://[::1]:4222"]) {
      expect(loadConfig(rackConfigSchema, { env: { FLUXRIG_SNAKE_URL: url } }).config.snake.url).toBe(url);
    }
    for (const endpoint of ["", "127.0.0.1:4317", "collector:4317", "[::1]:4317", "https://otel:4318/v1"]) {
      // The rack's: the mixer takes no gRPC endpoint (bad-input.test.ts).
      const { config } = loadConfig(rackConfigSchema, {
        env: {
          FLUXRIG_OBSERVABILITY_OTLP_ENDPOINT: endpoint,
          FLUXRIG_OBSERVABILITY_OTLP_ENDPOINT_HTTP: endpoint,
        },
      });
      expect(config.observability.otlp.endpoint).toBe(endpoint);
    }
  });

  it("accepts names, bounds and subjects at their limits", () => {
    const { config } = loadConfig(mixerConfigSchema, {
      file: mixer(
        [
          "[base]",
          `name = "${"n".repeat(253)}"`,
          "[snake]",
          'stream_subjects = ["orders.*.created", "flux.ctlx.>"]',
          'business_stream_max_age = "87600h"',
          "[observability.embedded.rotation]",
          "max_age_days = 36500",
        ].join("\n"),
      ).file,
    });
    expect(config.base.name).toHaveLength(253);
    expect(config.snake.business_stream_max_age).toBe(87_600 * 3_600_000);
    expect(loadConfig(rackConfigSchema, rack('[base]\nname = ""\n')).config.base.name).toBe("");
  });
});
