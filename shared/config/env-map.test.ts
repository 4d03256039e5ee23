import { describe, expect, it } from "vitest";
import { buildEnvMap, envVarName } from "./env-map.ts";
import { loadConfig } from "./load.ts";
import { mixerConfigSchema } from "./mixer-schema.ts";
import { rackConfigSchema } from "./rack-schema.ts";
import { configLeaves } from "./schema-walk.ts";

describe("the env-var map is derived from the schema", () => {
  it("maps multi-word keys to the right leaf, not by swapping every _ for a dot", () => {
    const rack = buildEnvMap(configLeaves(rackConfigSchema));
    expect(rack.get("FLUXRIG_RACK_MAX_HOPS")?.key).toBe("rack.max_hops");
    expect(rack.get("FLUXRIG_BASE_STATE_DIR")?.key).toBe("base.state_dir");
    expect(rack.get("FLUXRIG_LOGGING_THROTTLING_BURST")?.key).toBe("logging.throttling.burst");
    const mixer = buildEnvMap(configLeaves(mixerConfigSchema));
    expect(mixer.get("FLUXRIG_OBSERVABILITY_EMBEDDED_STORAGE_COMPRESSION")?.key).toBe(
      "observability.embedded.storage.compression",
    );
    expect(mixer.get("FLUXRIG_SNAKE_BUSINESS_STREAM_MAX_AGE")?.key).toBe("snake.business_stream_max_age");
  });

  it("has one name per key in both schemas (no two keys fold onto one variable)", () => {
    for (const schema of [rackConfigSchema, mixerConfigSchema]) {
      const leaves = configLeaves(schema);
      expect(buildEnvMap(leaves).size).toBe(leaves.length);
    }
    expect(envVarName("base.name")).toBe("FLUXRIG_BASE_NAME");
  });

  it("reads lists as a comma list or a JSON array", () => {
    const comma = loadConfig(mixerConfigSchema, { env: { FLUXRIG_SNAKE_STREAM_SUBJECTS: "a.>, b.> ,c.>" } });
    expect(comma.config.snake.stream_subjects).toEqual(["a.>", "b.>", "c.>"]);
    const json = loadConfig(mixerConfigSchema, { env: { FLUXRIG_SNAKE_STREAM_SUBJECTS: '["x.>","y.*"]' } });
    expect(json.config.snake.stream_subjects).toEqual(["x.>", "y.*"]);
  });

  it("coerces numbers, booleans, durations, sizes and maps", () => {
    const { config } = loadConfig(mixerConfigSchema, {
      env: {
        FLUXRIG_INGEST_BUFFER_SIZE: "4096",
        FLUXRIG_ENROLLMENT_AUTO_ADOPT: "true",
        FLUXRIG_INGEST_FLUSH_INTERVAL: "2500ms",
        FLUXRIG_MIXER_MAX_PAYLOAD_SIZE: "1MiB",
        FLUXRIG_OBSERVABILITY_SAMPLING_RATE: "0.25",
        FLUXRIG_OBSERVABILITY_OTLP_HEADERS: "x-team=edge,x-env=prod",
      },
    });
    expect(config.ingest.buffer_size).toBe(4096);
    expect(config.enrollment.auto_adopt).toBe(true);
    expect(config.ingest.flush_interval).toBe(2_500);
    expect(config.mixer.max_payload_size).toBe(1_048_576);
    expect(config.observability.sampling_rate).toBe(0.25);
    expect(config.observability.otlp.headers).toEqual({ "x-team": "edge", "x-env": "prod" });
  });

  it("warns about a prefixed variable that sets nothing, naming the closest one", () => {
    const { warnings } = loadConfig(rackConfigSchema, {
      env: { FLUXRIG_RACK_MAX_HOP: "3", FLUXRIG_CONFIG: "x" },
    });
    expect(warnings).toEqual([expect.stringContaining("FLUXRIG_RACK_MAX_HOP is not a setting")]);
    expect(warnings[0]).toContain("did you mean FLUXRIG_RACK_MAX_HOPS, which sets rack.max_hops");
  });
});
