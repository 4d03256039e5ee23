import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { MixerEnv } from "../env.ts";
import { configRoute } from "./config.ts";

const SECRET = "S3CR3T-route-4e2a";

/** The Worker's bindings with a config of our own: the text the launcher passes, and the variables it names. */
function mixerWith(toml: string, vars: Record<string, string> = {}): MixerEnv {
  return {
    ...(env as unknown as MixerEnv),
    MIXER_CONFIG_TOML: toml,
    MIXER_CONFIG_PATH: "fluxrig-mixer.toml",
    ...vars,
  };
}

describe("GET /api/v1/config", () => {
  it("masks URL credentials and shows ${VAR} values as written, with and without sources", async () => {
    const bindings = mixerWith(
      [
        "[snake]",
        `url = "nats://user:${SECRET}@nats:4222"`,
        `websocket_url = "wss://bridge:${SECRET}@nats:4223/?jwt=${SECRET}"`,
        "[observability.otlp]",
        'endpoint_http = "${OTLP_ENDPOINT}"',
        'headers = { "x-team" = "${TEAM}" }',
      ].join("\n"),
      {
        OTLP_ENDPOINT: `https://u:${SECRET}@otel:4318/v1/traces?token=${SECRET}`,
        TEAM: SECRET,
        FLUXRIG_API_TOKEN: SECRET,
      },
    );
    for (const path of ["/", "/?sources=true"]) {
      const res = await configRoute.request(path, {}, bindings);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain(SECRET);
      if (path === "/") {
        const body = JSON.parse(text);
        expect(body.snake.url).toBe("nats://***@nats:4222");
        expect(body.snake.websocket_url).toBe("wss://***@nats:4223/?jwt=***");
        // The mixer exports over HTTP only (a gRPC endpoint is refused): a ${VAR} is shown as written.
        expect(body.observability.otlp.endpoint_http).toBe("${OTLP_ENDPOINT}");
        expect(body.observability.otlp.headers).toEqual({ "x-team": "${TEAM}" });
        expect(body.api.token).toBe("********");
      }
    }
  });

  it("fails without echoing a secret when the config is refused", async () => {
    const bindings = mixerWith('[snake]\nport = "${DB_PASSWORD}"\n', { DB_PASSWORD: SECRET });
    const res = await configRoute.request("/", {}, bindings);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain(SECRET);
  });
});
