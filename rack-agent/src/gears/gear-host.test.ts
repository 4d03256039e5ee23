import { describe, expect, it } from "vitest";
import * as z from "zod";
import { parseTraceparent } from "../../../shared/fluxmsg/traceparent.ts";
import { defineGearType } from "../../../shared/gears/gear-type.ts";
import { defineGear } from "./gear.ts";
import { sampleMessage, startGear } from "./gear-harness.ts";

const flakyType = defineGearType({
  type: "flaky",
  description: "throws on messages whose data.fail is true, else emits them",
  config: z.strictObject({ token: z.string().default("") }),
  inputs: ["in"],
  outputs: ["out"],
});
const flakyGear = defineGear(flakyType, (ctx) => ({
  async process(msg) {
    if ((msg.data as { fail?: boolean }).fail) throw new Error("bad message");
    await ctx.emit("out", { ...msg, meta: { ...msg.meta, token: ctx.config.token } });
  },
}));

describe("GearHost", () => {
  it("makes each hop a child span of the message's trace", async () => {
    const gear = await startGear(flakyGear, {});
    const msg = sampleMessage();
    await gear.send("in", msg);
    const incoming = parseTraceparent(msg.trace)!;
    const [span] = gear.telemetry.spans;
    expect(span).toMatchObject({
      trace_id: incoming.traceId,
      parent_span_id: incoming.spanId,
      flux_id: msg.id,
      status: "ok",
    });
    expect(span?.attributes).toMatchObject({ gear_id: "flaky", gear_type: "flaky", port: "in" });
    const out = gear.emitted[0]?.msg;
    expect(parseTraceparent(out?.trace ?? "")).toMatchObject({
      traceId: incoming.traceId,
      spanId: span?.span_id,
    });
    expect(out?.path.map((hop) => `${hop.rack}/${hop.gear}.${hop.port}`)).toEqual([
      "rack-upstream/upstream.out",
      "rack-test/flaky.out",
    ]);
    await gear.stop();
  });

  it("passes an unsampled message's traceparent on unchanged, recording no span, still counting it", async () => {
    const gear = await startGear(flakyGear, {});
    const msg = sampleMessage();
    msg.trace = `${msg.trace.slice(0, -2)}00`;
    await gear.send("in", msg);
    expect(gear.telemetry.spans).toEqual([]);
    expect(gear.emitted[0]?.msg.trace).toBe(msg.trace);
    expect(gear.host.metrics.messagesIn).toBe(1);
    expect(gear.host.metrics.quantiles()).toBeDefined();
    await gear.stop();
  });

  it("dead-letters a message that throws, keeps running, and turns failing when most messages fail", async () => {
    const gear = await startGear(flakyGear, {});
    await gear.send("in", sampleMessage({ data: { fail: true } }));
    expect(gear.deadLetters[0]?.reason).toBe("gear flaky failed on port in: bad message");
    expect(gear.telemetry.spans[0]?.status).toBe("error");
    await gear.send("in", sampleMessage());
    expect(gear.emitted).toHaveLength(1);
    expect(gear.host.state).toBe("running");
    for (let i = 0; i < 10; i++) await gear.send("in", sampleMessage({ data: { fail: true } }));
    expect(gear.host.state).toBe("failing");
    expect(gear.host.metrics).toMatchObject({ messagesIn: 12, messagesOut: 1, errors: 11 });
    await gear.stop();
    expect(gear.host.state).toBe("stopped");
  });

  it("dead-letters what it emits past max_hops, with the reason", async () => {
    const gear = await startGear(flakyGear, {}, { limits: { maxHops: 1 } });
    await gear.send("in", sampleMessage());
    expect(gear.emitted).toEqual([]);
    expect(gear.deadLetters[0]?.reason).toMatch(/^max_hops exceeded: 2 hops, rack.max_hops is 1/);
    expect(gear.host.metrics.errors).toBe(1);
    await gear.stop();
  });

  it("resolves ${SECRET} in config strings, and refuses to start without the secret", async () => {
    const gear = await startGear(
      flakyGear,
      { token: "Bearer ${API_KEY}" },
      { secrets: { API_KEY: "k-123" } },
    );
    await gear.send("in", sampleMessage());
    expect(gear.emitted[0]?.msg.meta.token).toBe("Bearer k-123");
    await gear.stop();
    await expect(startGear(flakyGear, { token: "${API_KEY}" })).rejects.toThrow(
      "gear flaky (flaky): config.token refers to the secret ${API_KEY}, which this rack does not have",
    );
  });

  it("refuses a config its type's schema refuses, naming the field", async () => {
    await expect(startGear(flakyGear, { token: 5 })).rejects.toThrow(/^gear flaky \(flaky\): config.token: /);
  });

  it("reports counters and latency quantiles with the gear id as a label", async () => {
    const gear = await startGear(flakyGear, {});
    await gear.send("in", sampleMessage());
    gear.host.metrics.report(gear.telemetry);
    const names = gear.telemetry.metrics.map(
      (m) =>
        `${m.name}${m.labels.quantile ? `{${m.labels.quantile}}` : ""}=${m.name.includes("latency") ? "t" : m.value}`,
    );
    expect(names).toEqual([
      "fluxrig.gear.messages_in=1",
      "fluxrig.gear.messages_out=1",
      "fluxrig.gear.errors=0",
      "fluxrig.gear.dropped=0",
      "fluxrig.gear.latency_ms{0.5}=t",
      "fluxrig.gear.latency_ms{0.99}=t",
      "fluxrig.gear.latency_ms{1}=t",
    ]);
    expect(gear.telemetry.metrics.every((m) => m.labels.gear_id === "flaky")).toBe(true);
    await gear.stop();
  });

  it("logs with the gear id in telemetry and the rack and gear on the agent's log", async () => {
    const lines: string[] = [];
    const { GearHost } = await import("./gear-host.ts");
    const { recordingLog, recordingTelemetry } = await import("./gear-harness.ts");
    const telemetry = recordingTelemetry();
    const logGear = defineGear(flakyType, (ctx) => ({
      process: (msg) => ctx.log.warn("seen", { n: 1 }, msg.id),
    }));
    const host = new GearHost(
      logGear as never,
      { name: "auditor", type: "flaky", config: {}, hash: "" },
      {
        rackName: "rack-nyc-01",
        telemetry,
        log: recordingLog(telemetry, lines),
        limits: { maxHops: 64, maxPayloadSize: 1 << 20 },
        secrets: { get: () => undefined },
        deadLetter: () => undefined,
      },
      () => undefined,
      new Set(),
    );
    await host.init();
    await host.start();
    const msg = sampleMessage();
    host.deliver(msg, "in");
    expect(lines).toEqual(["rack-nyc-01/auditor: seen"]);
    expect(telemetry.logs[0]).toEqual({
      level: "warn",
      message: "seen",
      attributes: { gear_id: "auditor", gear_type: "flaky", n: 1 },
      fluxId: msg.id,
    });
  });
});
