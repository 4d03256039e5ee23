import { afterAll, expect, it, vi } from "vitest";
import { type OtlpReceiver, startOtlpReceiver } from "./helpers/otlp-receiver.ts";
import { listStored } from "./helpers/stored-files.ts";
import { MIXER_START_MS, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

let mixer: TestMixer | undefined;
let receiver: OtlpReceiver | undefined;
afterAll(async () => {
  await mixer?.dispose();
  await receiver?.stop();
});

/** A decoded KeyValue list as a plain object: each AnyValue's set field (`value` names it). */
// biome-ignore lint/suspicious/noExplicitAny: decoded protobuf
const attrs = (list: any[]) => Object.fromEntries(list.map(({ key, value }) => [key, value[value.value]]));

/** The bodies of every log record and the names of every metric the receiver decoded. */
function decoded(from: OtlpReceiver) {
  const logs: { body: string; resource: Record<string, unknown>; scope: string; severity: string }[] = [];
  const metrics = new Set<string>();
  for (const { signal, body } of from.received) {
    if (signal === "logs") {
      for (const resourceLogs of body.resourceLogs) {
        for (const scopeLogs of resourceLogs.scopeLogs) {
          for (const record of scopeLogs.logRecords) {
            logs.push({
              body: record.body.stringValue,
              resource: attrs(resourceLogs.resource.attributes),
              scope: scopeLogs.scope.name,
              severity: record.severityText,
            });
          }
        }
      }
    } else if (signal === "metrics") {
      for (const resourceMetrics of body.resourceMetrics) {
        for (const scopeMetrics of resourceMetrics.scopeMetrics) {
          for (const metric of scopeMetrics.metrics) metrics.add(metric.name);
        }
      }
    }
  }
  return { logs, metrics };
}

it(
  'with tier = "otlp" the mixer exports its own logs and metrics to endpoint_http, and keeps them while the collector is away',
  async () => {
    receiver = await startOtlpReceiver("http");
    const collector = receiver;
    mixer = await startTestMixer({
      env: { FLUXRIG_OBSERVABILITY_ENABLED: "true", OTEL_API_KEY: "k-mixer" },
      toml: `[observability]\ntier = "otlp"\n[observability.otlp]\nendpoint_http = "${receiver.url}"\nheaders = { "api-key" = "\${OTEL_API_KEY}" }\ntimeout = "2s"\n`,
    });
    const started = mixer;
    const { mixer_id: mixerId } = (await (await fetch(`${started.apiUrl}/health`)).json()) as {
      mixer_id: string;
    };
    const made = await started.api("/api/v1/tokens", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "otlp-first", scope: "read" }),
    });
    expect(made.status).toBe(201);

    // The isolate hands its line to the bridge within a second (no later request needed), and the bridge
    // writes the mixer's own telemetry every 10 s.
    await vi.waitFor(
      () => {
        const { logs, metrics } = decoded(collector);
        expect(logs.some((l) => l.body.includes("otlp-first"))).toBe(true);
        expect(metrics.has("fluxrig.mixer.api.requests")).toBe(true);
      },
      { timeout: 40_000, interval: 500 },
    );
    const first = decoded(collector).logs.find((l) => l.body.includes("otlp-first"));
    expect(first?.resource).toMatchObject({
      "service.name": "fluxrig-mixer",
      "service.instance.id": mixerId,
    });
    expect(first?.scope).toBe("fluxrig-mixer");
    for (const { headers } of collector.received) expect(headers["api-key"]).toBe("k-mixer");
    // Exported instead of stored: nothing of the mixer's own is in R2.
    expect(await listStored(started, "telemetry/")).toEqual([]);

    // The collector goes away: what the mixer says meanwhile is held, and exported once it is back.
    await collector.stop();
    const during = await started.api("/api/v1/tokens", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "otlp-during-outage", scope: "read" }),
    });
    expect(during.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 12_000)); // past one 10 s flush of the bridge
    expect(decoded(collector).logs.some((l) => l.body.includes("otlp-during-outage"))).toBe(false);
    await collector.start();
    await vi.waitFor(
      () => expect(decoded(collector).logs.some((l) => l.body.includes("otlp-during-outage"))).toBe(true),
      { timeout: 40_000, interval: 500 },
    );
  },
  MIXER_START_MS + 60_000,
);
