import type { z } from "zod";
import type { otlpSection } from "../config/sections.ts";

/** Where and how the OTLP tier exports, from `[observability.otlp]`. */
export interface OtlpTarget {
  /** `endpoint` set: gRPC; else `endpoint_http`: HTTP with protobuf bodies. */
  protocol: "grpc" | "http";
  /** The collector; a bare `host:port` is dialed over TLS (`https://host:port`). */
  url: URL;
  /** `headers`, names lowercased (HTTP/2 requires it); `${VAR}` references were expanded by the loader. */
  headers: Record<string, string>;
  /** `insecure`: TLS certificates are not verified. */
  insecure: boolean;
  /** `timeout`: each export request gives up after this long. */
  timeoutMs: number;
}

/**
 * The export target of `[observability.otlp]`: `endpoint` (gRPC) wins over `endpoint_http`; undefined when both
 * are empty (the config schema refuses that with `tier = "otlp"`).
 *
 * @example otlpTarget({ ...otlp, endpoint: "127.0.0.1:4317" })?.url.href // "https://127.0.0.1:4317/"
 */
export function otlpTarget(otlp: z.infer<typeof otlpSection>): OtlpTarget | undefined {
  const grpc = otlp.endpoint !== "";
  const endpoint = grpc ? otlp.endpoint : otlp.endpoint_http;
  if (endpoint === "") return undefined;
  return {
    protocol: grpc ? "grpc" : "http",
    url: new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`),
    headers: Object.fromEntries(
      Object.entries(otlp.headers).map(([name, value]) => [name.toLowerCase(), value]),
    ),
    insecure: otlp.insecure,
    timeoutMs: otlp.timeout,
  };
}
