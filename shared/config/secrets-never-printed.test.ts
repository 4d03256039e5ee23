import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBin } from "../../test/helpers/run-bin.ts";
import { type ConfigInput, loadConfig } from "./load.ts";
import { mixerConfigSchema } from "./mixer-schema.ts";
import { ConfigError } from "./provenance.ts";
import { rackConfigSchema } from "./rack-schema.ts";
import { renderConfigJson, renderConfigSources, renderConfigToml } from "./render.ts";

/** Distinctive, so a hit anywhere in the output can only be a leak. */
const SECRET = "S3CR3T-9c1f7e";
/** Variables a config refers to; some named like credentials, most not (the loader must not care). */
const ENV = {
  DB_PASSWORD: SECRET,
  HOPS: SECRET,
  COMPRESS: SECRET,
  BEAT: SECRET,
  PAYLOAD: SECRET,
  LEVEL: SECRET,
  NATS: SECRET,
  PW: SECRET,
  SUBJECT: `${SECRET} x`,
  TENANT: SECRET,
  HEADER: `${SECRET}\r\n`,
  TEAM: SECRET,
  SITE: `${SECRET}\u0007`,
  NAME: `${SECRET} `,
  DIR: `${SECRET}\u0000`,
};
type Schema = typeof rackConfigSchema | typeof mixerConfigSchema;
const rackFile = (text: string): ConfigInput => ({ file: { path: "fluxrig.toml", text }, env: ENV });
const mixerFile = (text: string): ConfigInput => ({ file: { path: "fluxrig-mixer.toml", text }, env: ENV });

/** A secret in a typed key of each kind, where the value is refused: the error names the reference. */
const REFUSED: [kind: string, Schema, ConfigInput, shows: string][] = [
  ["int", mixerConfigSchema, mixerFile('[snake]\nport = "${DB_PASSWORD}"\n'), '"${DB_PASSWORD}"'],
  ["int", rackConfigSchema, rackFile('[rack]\nmax_hops = "${HOPS}"\n'), '"${HOPS}"'],
  ["bool", rackConfigSchema, rackFile('[logging]\ncompress = "${COMPRESS}"\n'), '"${COMPRESS}"'],
  ["duration", rackConfigSchema, rackFile('[rack]\nheartbeat_interval = "${BEAT}"\n'), '"${BEAT}"'],
  ["size", rackConfigSchema, rackFile('[rack]\nmax_payload_size = "${PAYLOAD}"\n'), '"${PAYLOAD}"'],
  ["enum", rackConfigSchema, rackFile('[logging]\nlevel = "${LEVEL}"\n'), '"${LEVEL}"'],
  ["url", rackConfigSchema, rackFile('[snake]\nurl = "${NATS}"\n'), '"${NATS}"'],
  ["url", rackConfigSchema, rackFile('[snake]\nurl = "nats://user:${PW}@h:99999"\n'), '"nats://***@h:99999"'],
  ["list", mixerConfigSchema, mixerFile('[snake]\nstream_subjects = ["${SUBJECT}"]\n'), '["${SUBJECT}"]'],
  [
    "map",
    mixerConfigSchema,
    mixerFile('[observability.otlp]\nheaders = { "x-team" = "${HEADER}" }\n'),
    '{"x-team":"${HEADER}"}',
  ],
  ["map", rackConfigSchema, rackFile('[rack]\nlabels = { site = "${SITE}" }\n'), '{"site":"${SITE}"}'],
  ["name", rackConfigSchema, rackFile('[base]\nname = "${NAME}"\n'), '"${NAME}"'],
  ["path", rackConfigSchema, rackFile('[base]\nstate_dir = "${DIR}"\n'), '"${DIR}"'],
  [
    "url, userinfo",
    rackConfigSchema,
    { env: { FLUXRIG_SNAKE_URL: `ftp://user:${SECRET}@host` } },
    '"ftp://***@host"',
  ],
  [
    "url, userinfo and query",
    mixerConfigSchema,
    { env: { FLUXRIG_SNAKE_WEBSOCKET_URL: `wss://bridge:${SECRET}@nats/?jwt=${SECRET} x` } },
    '"wss://***@nats/?jwt=***"',
  ],
  [
    "OTLP host:port with userinfo",
    mixerConfigSchema,
    mixerFile(`[observability.otlp]\nendpoint = "user:${SECRET}@otel:4317"\n`),
    '"***@otel:4317"',
  ],
  [
    "secret",
    mixerConfigSchema,
    { env: { FLUXRIG_API_TOKEN: `${SECRET}\r` } },
    "env FLUXRIG_API_TOKEN: api.token",
  ],
  [
    "flag",
    rackConfigSchema,
    { flags: [{ key: "snake.url", flag: "--snake-url", value: `file://u:${SECRET}@x` }] },
    "***@x",
  ],
];

/** Accepted configs holding the secret: every rendering masks it or shows the reference. */
const ACCEPTED: [what: string, Schema, ConfigInput][] = [
  [
    "URL userinfo and query token",
    mixerConfigSchema,
    mixerFile(
      [
        "[snake]",
        `url = "nats://user:${SECRET}@nats:4222"`,
        `websocket_url = "wss://bridge:${SECRET}@nats:4223/?jwt=${SECRET}"`,
        "[observability.otlp]",
        `endpoint_http = "https://user:${SECRET}@otel:4318/v1/traces?token=${SECRET}"`,
      ].join("\n"),
    ),
  ],
  [
    "${VAR} in a list, a map and a URL",
    mixerConfigSchema,
    mixerFile(
      [
        "[snake]",
        'stream_subjects = ["orders.${TENANT}.>"]',
        'url = "nats://${TENANT}:${PW}@nats:4222"',
        "[observability.otlp]",
        'headers = { "x-team" = "${TEAM}", "api-key" = "${DB_PASSWORD}" }',
      ].join("\n"),
    ),
  ],
  [
    "URL credentials from the environment and flags",
    rackConfigSchema,
    {
      env: { FLUXRIG_SNAKE_URL: `tls://u:${SECRET}@nats:4222` },
      flags: [{ key: "snake.url", flag: "--snake-url", value: `ws://u:${SECRET}@nats:4223?token=${SECRET}` }],
    },
  ],
];

describe("a secret is never printed", () => {
  // Named fields: with "%s" the second placeholder took the schema, and formatting it cost a minute of CPU.
  const refused = REFUSED.map(([kind, schema, input, shows]) => ({ kind, schema, input, shows }));
  it.each(refused)("$kind: the refusal shows $shows, never the value", ({ schema, input, shows }) => {
    let error: unknown;
    try {
      loadConfig(schema, input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message } = error as ConfigError;
    expect(message).toContain(shows);
    expect(message).not.toContain(SECRET);
  });

  it.each(ACCEPTED)("%s: config show in every form hides it", (_what, schema, input) => {
    const { entries } = loadConfig(schema, input);
    for (const text of [
      renderConfigToml(entries),
      renderConfigSources(entries),
      renderConfigJson(entries, false),
      renderConfigJson(entries, true),
    ]) {
      expect(text).not.toContain(SECRET);
    }
  });

  it("shows a ${VAR} as written and URL credentials masked", () => {
    const { entries } = loadConfig(mixerConfigSchema, ACCEPTED[1]?.[2] as ConfigInput);
    const shown = renderConfigSources(entries);
    expect(shown).toContain('["orders.${TENANT}.>"]');
    expect(shown).toContain('"nats://***@nats:4222"');
    expect(shown).toContain('{ "x-team" = "${TEAM}", "api-key" = "********" }');
  });

  it("reads a ${VAR} in a typed key as its environment variable would be read", () => {
    const { config } = loadConfig(mixerConfigSchema, {
      file: { path: "m.toml", text: '[snake]\nport = "${PORT}"\ndurable = "${DURABLE}"\n' },
      env: { PORT: "4333", DURABLE: "true" },
    });
    expect(config.snake.port).toBe(4333);
    expect(config.snake.durable).toBe(true);
  });
});

describe("a secret is never printed by the binaries", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-secrets-"));
    await writeFile(join(dir, "mixer.toml"), '[snake]\nport = "${DB_PASSWORD}"\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("fluxrig and fluxrig-mixer: refusals, config show --sources and --json", async () => {
    const [refused, sources, json] = await Promise.all([
      runBin("fluxrig-mixer", ["--config", "mixer.toml", "config", "show"], {
        cwd: dir,
        env: {
          DB_PASSWORD: SECRET,
          FLUXRIG_SNAKE_WEBSOCKET_URL: `ftp://bridge:${SECRET}@nats`,
          FLUXRIG_OBSERVABILITY_OTLP_ENDPOINT: `user:${SECRET}@otel:4317`,
        },
      }),
      runBin("fluxrig", ["config", "show", "--sources", "--snake-url", `nats://u:${SECRET}@nats:4222`], {
        cwd: dir,
      }),
      runBin("fluxrig-mixer", ["config", "show", "--json"], {
        cwd: dir,
        env: { FLUXRIG_OBSERVABILITY_OTLP_ENDPOINT_HTTP: `https://u:${SECRET}@otel:4318/v1?token=${SECRET}` },
      }),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'mixer.toml:2: snake.port: expected a whole number, got "${DB_PASSWORD}"',
    );
    expect(refused.stderr).toContain(
      'env FLUXRIG_SNAKE_WEBSOCKET_URL: snake.websocket_url: expected a URL ws:// or wss://: the scheme is not allowed, got "ftp://***@nats"',
    );
    expect(refused.stderr).toContain('got "***@otel:4317"');
    expect(sources.code).toBe(0);
    expect(sources.stdout).toMatch(/snake\.url\s+"nats:\/\/\*\*\*@nats:4222"\s+flag --snake-url/);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).observability.otlp.endpoint_http).toBe(
      "https://***@otel:4318/v1?token=***",
    );
    for (const r of [refused, sources, json]) expect(r.stdout + r.stderr).not.toContain(SECRET);
  });
});
