import { createServer, type Server as HttpServer } from "node:http";
import { fileURLToPath } from "node:url";
import { Server as GrpcServer, ServerCredentials, type ServiceDefinition } from "@grpc/grpc-js";
import { loadSync, type MethodDefinition } from "@grpc/proto-loader";

/**
 * A real OTLP receiver for tests: gRPC (`@grpc/grpc-js` serving the collector services) or HTTP/protobuf
 * (`POST /v1/<signal>`), both decoding with the official opentelemetry-proto definitions (v1.9.0, vendored in
 * `otlp-proto/`, Apache-2.0). Decoded with camelCase fields, bytes as Buffers, 64-bit integers as strings and
 * enums by name (`SEVERITY_NUMBER_INFO`).
 */

const PROTO_DIR = fileURLToPath(new URL("./otlp-proto/", import.meta.url));
const SERVICES = {
  traces: ["collector/trace/v1/trace_service.proto", "opentelemetry.proto.collector.trace.v1.TraceService"],
  logs: ["collector/logs/v1/logs_service.proto", "opentelemetry.proto.collector.logs.v1.LogsService"],
  metrics: [
    "collector/metrics/v1/metrics_service.proto",
    "opentelemetry.proto.collector.metrics.v1.MetricsService",
  ],
} as const;
export type OtlpSignal = keyof typeof SERVICES;

const definitions = loadSync(
  Object.values(SERVICES).map(([file]) => `opentelemetry/proto/${file}`),
  { includeDirs: [PROTO_DIR], longs: String, enums: String, defaults: true, oneofs: true },
);
const service = (signal: OtlpSignal) => definitions[SERVICES[signal][1]] as ServiceDefinition;
const exportMethod = (signal: OtlpSignal) =>
  (definitions[SERVICES[signal][1]] as unknown as { Export: MethodDefinition<unknown, unknown> }).Export;

/** One export request as the receiver decoded it, with the headers (gRPC metadata) it came with. */
export interface ReceivedExport {
  signal: OtlpSignal;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: decoded protobuf, asserted field by field in tests
  body: any;
}

export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: the endpoint (gRPC) or endpoint_http (HTTP) to configure. */
  url: string;
  received: ReceivedExport[];
  /** Stops listening (an outage); `start()` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * Starts a receiver on 127.0.0.1 (a random port unless given).
 *
 * @example
 * const receiver = await startOtlpReceiver("grpc");
 * // observability.otlp.endpoint = receiver.url
 * await vi.waitFor(() => expect(receiver.received).toHaveLength(1));
 */
export async function startOtlpReceiver(protocol: "grpc" | "http", port = 0): Promise<OtlpReceiver> {
  const received: ReceivedExport[] = [];
  let stop: () => Promise<void> = async () => undefined;
  const start = async () => {
    if (protocol === "grpc") {
      const server = new GrpcServer();
      for (const signal of Object.keys(SERVICES) as OtlpSignal[]) {
        server.addService(service(signal), {
          Export: (
            call: { request: unknown; metadata: { getMap(): Record<string, unknown> } },
            callback: (error: null, response: object) => void,
          ) => {
            const headers = Object.fromEntries(
              Object.entries(call.metadata.getMap()).map(([name, value]) => [name, String(value)]),
            );
            received.push({ signal, headers, body: call.request });
            callback(null, {});
          },
        });
      }
      port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
          error ? reject(error) : resolve(bound),
        ),
      );
      stop = async () => server.forceShutdown();
    } else {
      const server: HttpServer = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
          const signal = /^\/v1\/(traces|logs|metrics)$/.exec(req.url ?? "")?.[1] as OtlpSignal | undefined;
          if (!signal || req.headers["content-type"] !== "application/x-protobuf") {
            res.writeHead(404).end();
            return;
          }
          const headers = Object.fromEntries(
            Object.entries(req.headers).map(([name, value]) => [name, String(value)]),
          );
          received.push({
            signal,
            headers,
            body: exportMethod(signal).requestDeserialize(Buffer.concat(chunks)),
          });
          res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
      port = (server.address() as { port: number }).port;
      stop = () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
    }
  };
  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stop: () => stop(),
    start,
  };
}
