import { describe, expect, it } from "vitest";
import { loadConfig } from "./load.ts";
import { mixerConfigSchema } from "./mixer-schema.ts";
import { describeSource } from "./provenance.ts";
import { rackConfigSchema } from "./rack-schema.ts";

const file = (text: string) => ({ path: "fluxrig.toml", text });
const sourceOf = (entries: { key: string; source: Parameters<typeof describeSource>[0] }[], key: string) =>
  describeSource(entries.find((e) => e.key === key)?.source ?? { kind: "default" });

describe("precedence: flags > environment > file > defaults", () => {
  const toml = file('# comment\n[rack]\nmax_hops = 10\n\n[snake]\nurl = "nats://file:4222"\n');

  it("the file beats the default, and cites file:line", () => {
    const { config, entries } = loadConfig(rackConfigSchema, { file: toml });
    expect(config.rack.max_hops).toBe(10);
    expect(sourceOf(entries, "rack.max_hops")).toBe("fluxrig.toml:3");
    expect(sourceOf(entries, "snake.url")).toBe("fluxrig.toml:6");
    expect(sourceOf(entries, "rack.ip")).toBe("default");
  });

  it("the environment beats the file", () => {
    const { config, entries } = loadConfig(rackConfigSchema, {
      file: toml,
      env: { FLUXRIG_RACK_MAX_HOPS: "20" },
    });
    expect(config.rack.max_hops).toBe(20);
    expect(sourceOf(entries, "rack.max_hops")).toBe("env FLUXRIG_RACK_MAX_HOPS");
  });

  it("a flag beats the environment", () => {
    const { config, entries } = loadConfig(rackConfigSchema, {
      file: toml,
      env: { FLUXRIG_SNAKE_URL: "nats://env:4222" },
      flags: [{ key: "snake.url", flag: "--snake-url", value: "nats://flag:4222" }],
    });
    expect(config.snake.url).toBe("nats://flag:4222");
    expect(sourceOf(entries, "snake.url")).toBe("flag --snake-url");
  });

  it("cites the line of dotted keys, inline tables and keys after multi-line values", () => {
    const text = [
      "[observability]", //1
      "embedded.flush_interval = '2s'", //2
      "[snake]", //3
      "stream_subjects = [", //4
      '  "a.>",', //5
      '  "b.>",', //6
      "]", //7
      'domain = """', //8
      'x"""', //9
      "[observability.otlp]", //10
      'headers = { "x-team" = "edge" }', //11
      "timeout = '5s' # trailing comment", //12
    ].join("\n");
    const { entries } = loadConfig(mixerConfigSchema, { file: { path: "m.toml", text } });
    expect(sourceOf(entries, "observability.embedded.flush_interval")).toBe("m.toml:2");
    expect(sourceOf(entries, "snake.stream_subjects")).toBe("m.toml:4");
    expect(sourceOf(entries, "snake.domain")).toBe("m.toml:8");
    expect(sourceOf(entries, "observability.otlp.headers")).toBe("m.toml:11");
    expect(sourceOf(entries, "observability.otlp.timeout")).toBe("m.toml:12");
  });
});

describe("the troubleshooting overrides", () => {
  it("FLUXRIG_TRACE forces trace over every layer, including a flag", () => {
    const { config, entries } = loadConfig(rackConfigSchema, {
      env: { FLUXRIG_TRACE: "true", FLUXRIG_DEBUG: "true" },
      flags: [{ key: "logging.level", flag: "--level", value: "error" }],
    });
    expect(config.logging.level).toBe("trace");
    expect(sourceOf(entries, "logging.level")).toBe("env FLUXRIG_TRACE");
  });

  it("FLUXRIG_DEBUG forces debug", () => {
    const { config } = loadConfig(mixerConfigSchema, {
      env: { FLUXRIG_DEBUG: "1", FLUXRIG_LOGGING_LEVEL: "warn" },
    });
    expect(config.logging.level).toBe("debug");
  });

  it("logging.trace in the file is a hard override too", () => {
    const { config, entries } = loadConfig(rackConfigSchema, {
      file: file("[logging]\nlevel = 'warn'\ntrace = true\n"),
    });
    expect(config.logging.level).toBe("trace");
    expect(sourceOf(entries, "logging.level")).toBe("fluxrig.toml:3");
  });

  it("FLUXRIG_DISABLE_TELEMETRY turns self-monitoring off on both sides", () => {
    for (const schema of [rackConfigSchema, mixerConfigSchema]) {
      const { config, entries } = loadConfig(schema, {
        file: file("[observability]\nenabled = true\n"),
        env: { FLUXRIG_DISABLE_TELEMETRY: "true" },
      });
      expect(config.observability.enabled).toBe(false);
      expect(sourceOf(entries, "observability.enabled")).toBe("env FLUXRIG_DISABLE_TELEMETRY");
    }
  });

  it("false or empty override variables change nothing", () => {
    const { config } = loadConfig(rackConfigSchema, {
      env: { FLUXRIG_TRACE: "false", FLUXRIG_DEBUG: "", FLUXRIG_DISABLE_TELEMETRY: "0" },
    });
    expect(config.logging.level).toBe("info");
    expect(config.observability.enabled).toBe(true);
  });
});
