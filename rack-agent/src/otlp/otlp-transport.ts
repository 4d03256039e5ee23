import type { ClientHttp2Session } from "node:http2";
import { httpExportError, OtlpExportError, otlpSignalUrl } from "../../../shared/otlp/otlp-http.ts";
import type { OtlpTarget } from "../../../shared/otlp/otlp-target.ts";
import type { TelemetryKind } from "../../../shared/telemetry/records.ts";

/**
 * Sends encoded OTLP export requests to a collector: gRPC (unary `Export` over HTTP/2, as the OTLP spec
 * defines it) or HTTP/protobuf (`POST <endpoint_http>/v1/<signal>`). The bodies are the SDK serializers' bytes;
 * only the framing is here. Node's http2 carries gRPC in a few lines, where `@grpc/grpc-js` would add about
 * 800 KB to the rack's bundle. Node's http, https and http2 modules load at the first export (TLS and HTTP/2
 * cost about 11 MiB of RSS), so a rack on the embedded tier never pays for them.
 */
export interface OtlpTransport {
  send(kind: TelemetryKind, body: Uint8Array): Promise<void>;
  close(): void;
}

export { OtlpExportError };

const GRPC_SERVICE: Record<TelemetryKind, string> = {
  traces: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
  logs: "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
  metrics: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
};
/** gRPC codes OTLP says to retry: CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS. */
const GRPC_RETRYABLE = new Set([1, 4, 8, 10, 11, 14, 15]);

/**
 * The transport for a target.
 *
 * @example
 * const transport = otlpTransport({ protocol: "grpc", url: new URL("http://127.0.0.1:4317"), headers: {}, insecure: false, timeoutMs: 30_000 });
 * await transport.send("logs", encodeOtlpRequest("logs", records, resource));
 */
export function otlpTransport(target: OtlpTarget): OtlpTransport {
  return target.protocol === "grpc" ? new GrpcTransport(target) : new HttpTransport(target);
}

class HttpTransport implements OtlpTransport {
  constructor(private readonly target: OtlpTarget) {}

  async send(kind: TelemetryKind, body: Uint8Array): Promise<void> {
    const { url, headers, insecure, timeoutMs } = this.target;
    const signalUrl = otlpSignalUrl(url, kind);
    const { request } =
      signalUrl.protocol === "https:" ? await import("node:https") : await import("node:http");
    return new Promise((resolve, reject) => {
      const req = request(
        signalUrl,
        {
          method: "POST",
          headers: { ...headers, "content-type": "application/x-protobuf", "content-length": body.length },
          timeout: timeoutMs,
          rejectUnauthorized: !insecure,
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else {
              reject(httpExportError(signalUrl.origin, status, kind));
            }
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on("error", (error) =>
        reject(
          new OtlpExportError(`${kind} to ${signalUrl.origin}: ${error.message}`, true, { cause: error }),
        ),
      );
      req.end(body);
    });
  }

  close(): void {}
}

class GrpcTransport implements OtlpTransport {
  #session: ClientHttp2Session | undefined;
  /** Exports under way: the connection keeps the process alive only while there are some. */
  #active = 0;

  constructor(private readonly target: OtlpTarget) {}

  async send(kind: TelemetryKind, body: Uint8Array): Promise<void> {
    const { headers, timeoutMs, url } = this.target;
    const { connect, constants: http2 } = await import("node:http2");
    const session = this.#connect(connect);
    if (this.#active++ === 0) session.ref();
    // gRPC's length-prefixed message: a compression flag (0), then the length, big-endian.
    const framed = new Uint8Array(5 + body.length);
    new DataView(framed.buffer).setUint32(1, body.length);
    framed.set(body, 5);
    return new Promise((resolve, reject) => {
      const fail = (message: string, retryable: boolean, cause?: unknown) =>
        reject(new OtlpExportError(`${kind} to ${url.host}: ${message}`, retryable, { cause }));
      const stream = session.request({
        ...headers,
        [http2.HTTP2_HEADER_METHOD]: "POST",
        [http2.HTTP2_HEADER_PATH]: GRPC_SERVICE[kind],
        [http2.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc+proto",
        te: "trailers",
        "grpc-timeout": `${timeoutMs}m`,
      });
      let status: string | undefined;
      let message = "";
      const read = (fields: Record<string, unknown>) => {
        if (fields["grpc-status"] !== undefined) status = String(fields["grpc-status"]);
        if (fields["grpc-message"] !== undefined)
          message = decodeURIComponent(String(fields["grpc-message"]));
      };
      stream.on("response", (fields) => {
        const httpStatus = Number(fields[http2.HTTP2_HEADER_STATUS]);
        if (httpStatus !== 200) status ??= "14"; // not a gRPC answer: a proxy, say; UNAVAILABLE
        read(fields);
      });
      stream.on("trailers", read);
      stream.setTimeout(timeoutMs, () => {
        stream.close(http2.NGHTTP2_CANCEL);
        fail(`no answer within ${timeoutMs} ms`, true);
      });
      stream.on("error", (error) => fail(error.message, true, error));
      stream.resume();
      stream.on("close", () => {
        if (--this.#active === 0 && !session.destroyed) session.unref();
        if (status === "0") resolve();
        else if (status === undefined) fail("the stream closed without a gRPC status", true);
        else
          fail(`gRPC status ${status}${message ? ` (${message})` : ""}`, GRPC_RETRYABLE.has(Number(status)));
      });
      stream.end(framed);
    });
  }

  close(): void {
    this.#session?.close();
    this.#session = undefined;
  }

  /** One HTTP/2 connection, made again after it fails or closes. */
  #connect(connect: typeof import("node:http2").connect): ClientHttp2Session {
    const current = this.#session;
    if (current && !current.closed && !current.destroyed) return current;
    const { url, insecure } = this.target;
    const session = connect(url.origin, { rejectUnauthorized: !insecure });
    // Failed sessions are replaced at the next send; the stream on it reports the error.
    session.on("error", () => undefined);
    session.on("close", () => {
      if (this.#session === session) this.#session = undefined;
    });
    session.unref();
    this.#session = session;
    return session;
  }
}
