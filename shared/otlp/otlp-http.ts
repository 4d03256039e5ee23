import type { TelemetryKind } from "../telemetry/records.ts";

/**
 * What OTLP/HTTP says, shared by the rack's Node transport and the mixer's fetch: where each signal goes and
 * which answers are worth a retry.
 */

/** A failed export; `retryable` as the OTLP spec classes its status (else the collector refused the data). */
export class OtlpExportError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "OtlpExportError";
  }
}

/** HTTP statuses OTLP says to retry. */
export const HTTP_RETRYABLE = new Set([429, 502, 503, 504]);

/**
 * `POST <endpoint_http>/v1/<signal>`, keeping the endpoint's own path.
 *
 * @example otlpSignalUrl(new URL("http://collector:4318/otlp/"), "logs").href // "http://collector:4318/otlp/v1/logs"
 */
export function otlpSignalUrl(endpoint: URL, kind: TelemetryKind): URL {
  return new URL(`${endpoint.pathname.replace(/\/+$/, "")}/v1/${kind}`, endpoint);
}

/** The error for an HTTP answer that is not 2xx. */
export function httpExportError(origin: string, status: number, kind: TelemetryKind): OtlpExportError {
  return new OtlpExportError(`${origin} answered HTTP ${status} to ${kind}`, HTTP_RETRYABLE.has(status));
}
