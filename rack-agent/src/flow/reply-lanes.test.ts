import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { expect, it, onTestFinished } from "vitest";
import { scenarioPart, validateScenario } from "../../../shared/scenario/index.ts";
import { ensureStreams } from "../../../shared/snake/streams.ts";
import { startNatsServer } from "../../../test/helpers/nats-server.ts";
import { recordingLog, recordingTelemetry } from "../gears/gear-harness.ts";
import { GearRegistry } from "../gears/registry.ts";
import { FlowRuntime } from "./flow-runtime.ts";
import { JetStreamLanes } from "./guaranteed-lanes.ts";

// Two edge racks share the alias that takes the requests; the core answers over a guaranteed lane into an edge
// gear wired to the reply port (as examples/scenarios/card-authorization.yaml does). Only the rack that took a
// request holds its client, so the answer must come back to that rack and not its twin.
const SCENARIO = `
meta: {name: replies, version: 1}
racks:
  edge: {selector: {role: edge}}
  core: {name: rack-core}
gears:
  pos: {type: http-in, rack: edge, config: {port: 0, reply_timeout: 20s}}
  issuer: {type: transform, rack: core, config: {ops: [{set: data.approved, value: true}]}}
  answer: {type: transform, rack: edge, config: {ops: [{set: data.answered_by, value: edge}]}}
wires:
  - {from: edge.pos.out, to: core.issuer.in, lane: guaranteed}
  - {from: core.issuer.out, to: edge.answer.in, lane: guaranteed}
  - {from: edge.answer.out, to: edge.pos.reply}
`;

async function rack(url: string, rackName: string, alias: string) {
  const nc = await connect({ servers: url });
  const telemetry = recordingTelemetry();
  const lanes = new JetStreamLanes({
    nc,
    domain: "flux",
    stream: "flux-msg",
    rackName,
    convergenceDelayMs: 10,
    retryMs: 100,
    warn: () => {},
  });
  const flow = new FlowRuntime(
    {
      rackName,
      telemetry,
      log: recordingLog(telemetry),
      limits: { maxHops: 64, maxPayloadSize: 1 << 20 },
      secrets: { get: () => undefined },
      deadLetter: () => {},
    },
    GearRegistry.builtIn(),
    lanes,
  );
  onTestFinished(async () => {
    await flow.stop();
    await lanes.close();
    await nc.close();
  });
  const result = validateScenario(SCENARIO);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const applied = await flow.apply(await scenarioPart(result.scenario, alias));
  expect(applied.failed).toEqual([]);
  const listening = telemetry.logs.find((line) => line.message.startsWith("listening on"));
  return { port: listening?.attributes.port as number | undefined };
}

it("an answer coming back over a guaranteed lane reaches the rack of the alias that took the request, not its twin", async () => {
  const server = await startNatsServer();
  onTestFinished(() => server.stop());
  const admin = await connect({ servers: server.url });
  onTestFinished(() => admin.close());
  await ensureStreams(await jetstreamManager(admin, { domain: "flux" }), {
    stream_name: "flux-msg",
    stream_subjects: ["flux.msg.>"],
    business_stream_max_age: 3_600_000,
    telemetry_stream_max_age: 3_600_000,
    durable: false,
  });
  const edges = [
    await rack(server.url, "rack-edge-a", "edge"),
    await rack(server.url, "rack-edge-b", "edge"),
  ];
  await rack(server.url, "rack-core", "core");

  // Each edge rack takes 20 requests; with the alias's shared consumer alone, about half the answers went
  // to the other edge rack, found no client there, and the requests ended in 202 after the reply timeout.
  const requests = edges.flatMap(({ port }, e) =>
    Array.from({ length: 20 }, async (_, i) => {
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ edge: e, seq: i }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }),
  );
  const answers = await Promise.all(requests);
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  expect(answers.map((a) => a.body.approved)).toEqual(answers.map(() => true));
});
