import { encodeOtlpRequest, type OtlpSource } from "../../../shared/otlp/otlp-encode.ts";
import { httpExportError, OtlpExportError, otlpSignalUrl } from "../../../shared/otlp/otlp-http.ts";
import type { OtlpTarget } from "../../../shared/otlp/otlp-target.ts";
import type { RecordOf, TelemetryKind } from "../../../shared/telemetry/records.ts";

/**
 * Exports one batch of the mixer's own records to the collector of `[observability.otlp]` (`tier = "otlp"`):
 * OTLP/HTTP with protobuf bodies from OpenTelemetry's serializers, as the rack sends them, through the Worker's
 * fetch (a Worker cannot speak gRPC, so the config allows only `endpoint_http`). Rejects with an
 * {@link OtlpExportError} saying whether a retry could help.
 *
 * @example await exportOtlp(target, otlpSource({ id, name }, "fluxrig-mixer"), "logs", records);
 */
export async function exportOtlp<K extends TelemetryKind>(
  target: OtlpTarget,
  source: OtlpSource,
  kind: K,
  records: readonly RecordOf<K>[],
): Promise<void> {
  const url = otlpSignalUrl(target.url, kind);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { ...target.headers, "content-type": "application/x-protobuf" },
      // The serializer's bytes are a Uint8Array over an ArrayBuffer; the Workers types want that said.
      body: encodeOtlpRequest(kind, records, source) as Uint8Array<ArrayBuffer>,
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    throw new OtlpExportError(`${kind} to ${url.origin}: ${(error as Error).message}`, true, {
      cause: error,
    });
  }
  // The body is not needed; reading it lets the connection be reused.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw httpExportError(url.origin, response.status, kind);
}
