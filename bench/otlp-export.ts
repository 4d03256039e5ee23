/**
 * The OTLP tier's client against the Snake path it replaces, in one run: the same 100k log records through
 * createTelemetry, awaiting each call, then flush, with
 *
 * 1. snake: the embedded tier (CBOR batches to a real nats-server, memory streams): the baseline;
 * 2. otlp-http: tier = "otlp" with endpoint_http, to a local HTTP sink that reads and discards the bodies;
 * 3. otlp-grpc: tier = "otlp" with endpoint, to a local HTTP/2 sink that answers grpc-status 0.
 *
 *   npx tsx bench/otlp-export.ts
 *
 * Prints records/s, CPU ms per 10k records (this process: client and sink) and bytes per record on the wire,
 * each as a ratio to the Snake path. Also: the local messages store (`[observability.otlp.messages]`) writing
 * 100k journal records as Parquet, against encoding the same records as CBOR (the Snake path's work for them).
 */

import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { createServer as createHttp2Server } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { LocalMessages } from "../rack-agent/src/otlp/index.ts";
import { createTelemetry, type TelemetryOptions } from "../rack-agent/src/telemetry/index.ts";
import { loadConfig, mixerConfigSchema } from "../shared/config/index.ts";
import { cbor } from "../shared/fluxmsg/cbor.ts";
import { uuidv7 } from "../shared/random/uuidv7.ts";
import { ensureStreams } from "../shared/snake/streams.ts";
import { startNatsServer } from "../test/helpers/nats-server.ts";

const RECORDS = 100_000;

let sinkBytes = 0;
const httpSink = createServer((req, res) => {
  req.on("data", (chunk: Buffer) => {
    sinkBytes += chunk.length;
  });
  req.on("end", () => res.writeHead(200).end());
});
await new Promise<void>((resolve) => httpSink.listen(0, "127.0.0.1", resolve));
const grpcSink = createHttp2Server();
grpcSink.on("stream", (stream) => {
  stream.on("data", (chunk: Buffer) => {
    sinkBytes += chunk.length;
  });
  stream.on("end", () => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end();
  });
});
await new Promise<void>((resolve) => grpcSink.listen(0, "127.0.0.1", resolve));
const portOf = (server: { address(): unknown }) => (server.address() as { port: number }).port;

const server = await startNatsServer();
const nc = await connect({ servers: server.url });
const dir = await mkdtemp(join(tmpdir(), "fluxrig-bench-otlp-"));
const entity = { id: uuidv7(), name: "rack-bench-01" };

async function run(name: string, extra: Partial<TelemetryOptions>) {
  const telemetry = await createTelemetry({
    nc,
    domain: "flux",
    entity,
    maxPayloadSize: 2 * 2 ** 20,
    samplingRate: 1,
    enabled: true,
    stateDir: join(dir, name),
    selfMetricsIntervalMs: 3_600_000,
    warn: (message) => console.error(`${name}: ${message}`),
    ...extra,
  });
  sinkBytes = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < RECORDS; i++) {
    await telemetry.log("info", `request ${i} handled`, { i, gear: "parser" });
  }
  await telemetry.flush();
  const seconds = (performance.now() - started) / 1_000;
  const used = process.cpuUsage(cpu);
  const stats = telemetry.stats();
  await telemetry.close();
  if (stats.recordsSent < RECORDS) throw new Error(`${name}: only ${stats.recordsSent} of ${RECORDS} sent`);
  return {
    name,
    perSecond: RECORDS / seconds,
    cpuMsPer10k: ((used.user + used.system) / 1_000 / RECORDS) * 10_000,
    bytesPerRecord: (name === "snake" ? stats.bytesSent : sinkBytes) / RECORDS,
  };
}

try {
  await ensureStreams(
    await jetstreamManager(nc, { domain: "flux" }),
    loadConfig(mixerConfigSchema, {}).config.snake,
  );
  const target = (protocol: "grpc" | "http", port: number) => ({
    protocol,
    url: new URL(`http://127.0.0.1:${port}`),
    headers: {},
    insecure: false,
    timeoutMs: 30_000,
  });
  const results = [
    await run("snake", {}),
    await run("otlp-http", { otlp: target("http", portOf(httpSink)) }),
    await run("otlp-grpc", { otlp: target("grpc", portOf(grpcSink)) }),
  ];
  const base = results[0] as (typeof results)[number];
  console.log(`${RECORDS} log records through createTelemetry, awaiting each call, then flush:`);
  for (const r of results) {
    console.log(
      `  ${r.name.padEnd(10)} ${Math.round(r.perSecond).toLocaleString("en").padStart(8)} records/s ` +
        `(${(r.perSecond / base.perSecond).toFixed(2)}x)  CPU ${r.cpuMsPer10k.toFixed(0)} ms/10k ` +
        `(${(r.cpuMsPer10k / base.cpuMsPer10k).toFixed(2)}x)  ${r.bytesPerRecord.toFixed(1)} B/record ` +
        `(${(r.bytesPerRecord / base.bytesPerRecord).toFixed(2)}x)`,
    );
  }

  const journal = Array.from({ length: RECORDS }, (_, i) => ({
    record_id: uuidv7(),
    ts: Date.now(),
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    flux_id: uuidv7(),
    entity_id: entity.id,
    entity_name: entity.name,
    src_gear_id: "decode",
    dst_gear_id: "authorize",
    msg_type: "card.auth",
    direction: "internal" as const,
    status: "ok" as const,
    raw_msg: cbor.encode({ i, data: { amount: i, pan: "411111******1111" } }),
    promoted: { amount: i, currency: "EUR" },
    spec: i % 2 === 0 ? "visa-v1" : null,
  }));
  let started = performance.now();
  for (const record of journal) cbor.encode(record);
  const cborMs = performance.now() - started;
  const local = new LocalMessages({
    dir: join(dir, "messages"),
    warn: console.error,
    maxRecords: RECORDS + 1,
  });
  started = performance.now();
  for (const record of journal) local.add(record);
  await local.close();
  const parquetMs = performance.now() - started;
  console.log(
    `local messages: ${RECORDS} journal records to Parquet in ${parquetMs.toFixed(0)} ms ` +
      `(${Math.round(RECORDS / (parquetMs / 1_000)).toLocaleString("en")} records/s), ` +
      `${(parquetMs / cborMs).toFixed(1)}x CBOR-encoding them (${cborMs.toFixed(0)} ms)`,
  );
} finally {
  await nc.close();
  await server.stop();
  httpSink.close();
  grpcSink.close();
  await rm(dir, { recursive: true, force: true });
}
