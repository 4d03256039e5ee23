import { describe, expect, it } from "vitest";
import { loadConfig } from "./load.ts";
import { mixerConfigSchema } from "./mixer-schema.ts";
import { ConfigError } from "./provenance.ts";
import { renderConfigJson, renderConfigSources, renderConfigToml } from "./render.ts";

const mixerFile = (text: string) => ({ path: "fluxrig-mixer.toml", text });

function problemsOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("secrets never live in TOML", () => {
  it("refuses a schema secret in the file and names the env var to use", () => {
    const message = problemsOf(() =>
      loadConfig(mixerConfigSchema, { file: mixerFile('[api]\ntoken = "s3cret"\n') }),
    );
    expect(message).toContain("fluxrig-mixer.toml:2: api.token is a secret");
    expect(message).toContain("set FLUXRIG_API_TOKEN in the environment");
    expect(message).not.toContain("s3cret");
  });

  it("refuses a secret-looking key that is not in the schema, naming its env var", () => {
    const message = problemsOf(() =>
      loadConfig(mixerConfigSchema, { file: mixerFile('[store]\ndatabase_password = "hunter2"\n') }),
    );
    expect(message).toContain("store.database_password looks like a secret");
    expect(message).toContain("FLUXRIG_STORE_DATABASE_PASSWORD");
    expect(message).not.toContain("hunter2");
  });

  it("takes a secret from the environment and masks it in every rendering", () => {
    const { entries } = loadConfig(mixerConfigSchema, { env: { FLUXRIG_API_TOKEN: "tok-123" } });
    for (const text of [
      renderConfigToml(entries),
      renderConfigSources(entries),
      renderConfigJson(entries, true),
    ]) {
      expect(text).not.toContain("tok-123");
      expect(text).toContain("********");
    }
  });

  it("expands ${VAR} in header values, and shows them as written", () => {
    const { config, entries } = loadConfig(mixerConfigSchema, {
      file: mixerFile(
        '[observability.otlp]\nheaders = { "api-key" = "${OTEL_API_KEY}", "x-team" = "${TEAM}-edge" }\n',
      ),
      env: { OTEL_API_KEY: "k-999", TEAM: "pay" },
    });
    expect(config.observability.otlp.headers).toEqual({ "api-key": "k-999", "x-team": "pay-edge" });
    const shown = renderConfigSources(entries);
    expect(shown).not.toContain("k-999");
    expect(shown).not.toContain("pay-edge");
    expect(shown).toContain('{ "api-key" = "********", "x-team" = "${TEAM}-edge" }');
  });

  it("never shows a value filled from a variable, whatever the key or the variable is called", () => {
    const { entries } = loadConfig(mixerConfigSchema, {
      file: mixerFile(
        '[observability.otlp]\nendpoint_http = "${OTLP_TOKEN_URL}"\nheaders = { "x-honeycomb-team" = "${HONEYCOMB_SECRET}" }\n',
      ),
      env: { OTLP_TOKEN_URL: "https://u:p@otel", HONEYCOMB_SECRET: "hc-777" },
    });
    const shown = renderConfigJson(entries, false);
    expect(shown).not.toContain("hc-777");
    expect(shown).not.toContain("u:p@otel");
    expect(shown).toContain('"x-honeycomb-team": "${HONEYCOMB_SECRET}"');
    // A credential-named variable makes the value a secret: masked, and sealed by a rack rather than sent plain.
    expect(shown).toContain('"endpoint_http": "********"');
  });

  it("reports a missing ${VAR} by name and line", () => {
    const message = problemsOf(() =>
      loadConfig(mixerConfigSchema, {
        file: mixerFile('\n[observability.otlp]\nheaders = { "api-key" = "${OTEL_API_KEY}" }\n'),
      }),
    );
    expect(message).toContain(
      "fluxrig-mixer.toml:3: observability.otlp.headers.api-key refers to ${OTEL_API_KEY}",
    );
    expect(message).toContain("not set in the environment");
  });

  it("refuses a literal credential in a header and shows the reference to write instead", () => {
    const message = problemsOf(() =>
      loadConfig(mixerConfigSchema, {
        file: mixerFile('[observability.otlp]\nheaders = { "api-key" = "abc" }\n'),
      }),
    );
    expect(message).toContain(
      'observability.otlp.headers.api-key holds a literal secret: write "${API_KEY}"',
    );
    expect(message).not.toContain('"abc"');
  });
});
