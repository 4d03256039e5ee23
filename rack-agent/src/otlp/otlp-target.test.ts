import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, rackConfigSchema } from "../../../shared/config/index.ts";
import { telemetryTier } from "./index.ts";

const rack = (text: string, env: Record<string, string> = {}) =>
  loadConfig(rackConfigSchema, { file: { path: "fluxrig.toml", text }, env }).config;

describe("telemetryTier", () => {
  it("is empty with the embedded tier, whatever [observability.otlp] says", () => {
    expect(telemetryTier(rack('[observability.otlp]\nendpoint = "127.0.0.1:4317"\n'))).toEqual({});
  });

  it("reads endpoint (gRPC, TLS for a bare host:port), headers with ${VAR} expanded, insecure and timeout", () => {
    const config = rack(
      '[observability]\ntier = "otlp"\n[observability.otlp]\nendpoint = "otel-collector:4317"\nendpoint_http = "http://ignored:4318"\n' +
        'headers = { "Api-Key" = "${OTEL_API_KEY}" }\ninsecure = true\ntimeout = "5s"\n',
      { OTEL_API_KEY: "secret-1" },
    );
    const { otlp, localMessagesDir } = telemetryTier(config);
    expect(otlp).toMatchObject({
      protocol: "grpc",
      headers: { "api-key": "secret-1" },
      insecure: true,
      timeoutMs: 5_000,
    });
    expect(otlp?.url.href).toBe("https://otel-collector:4317/");
    expect(localMessagesDir).toBeUndefined();
  });

  it("uses endpoint_http when endpoint is empty, and [observability.otlp.messages] when enabled", () => {
    const config = rack(
      '[observability]\ntier = "otlp"\n[observability.otlp]\nendpoint_http = "http://127.0.0.1:4318"\n' +
        '[observability.otlp.messages]\nenabled = true\ndata_dir = "/var/lib/fluxrig/messages"\n',
    );
    const { otlp, localMessagesDir } = telemetryTier(config);
    expect(otlp).toMatchObject({ protocol: "http", insecure: false, timeoutMs: 30_000 });
    expect(otlp?.url.href).toBe("http://127.0.0.1:4318/");
    expect(localMessagesDir).toBe("/var/lib/fluxrig/messages");
  });

  it('refuses tier = "otlp" without a collector, naming the keys to set', () => {
    expect(() => rack('[observability]\ntier = "otlp"\n')).toThrow(ConfigError);
    expect(() => rack('[observability]\ntier = "otlp"\n')).toThrow(
      /observability\.otlp\.endpoint.*endpoint_http/s,
    );
  });
});
