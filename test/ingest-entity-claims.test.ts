import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { uuidv7 } from "uuidv7";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cbor } from "../shared/fluxmsg/cbor.ts";
import { DEAD_LETTER_FILTER, journalSubject, telemetrySubject } from "../shared/fluxmsg/subjects.ts";
import { eventually, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

describe("ingest trusts a record only as far as its subject", () => {
  let mixer: TestMixer;
  let nc: NatsConnection;

  beforeAll(async () => {
    // At warn: its dead-letter warnings print, its info lines (wrangler's request log) do not.
    mixer = await startTestMixer({
      env: { FLUXRIG_INGEST_FLUSH_INTERVAL: "1s", FLUXRIG_LOGGING_LEVEL: "warn" },
    });
    nc = await mixer.connectBus();
  }, 400_000);

  afterAll(async () => {
    await nc?.close();
    await mixer?.dispose();
  });

  it("dead-letters telemetry and journal records that claim another rack, naming both, and stores the honest ones", async () => {
    const dead: { subject: string; reason: string }[] = [];
    const sub = nc.subscribe(DEAD_LETTER_FILTER, {
      callback: (_error, msg) => {
        dead.push({ subject: msg.subject, reason: msg.headers?.get("Fluxrig-Dead-Letter-Reason") ?? "" });
      },
    });
    const js = jetstream(nc, { domain: "flux" });
    const rackA = { entity_id: uuidv7(), entity_name: "rack-a" };
    const rackB = { entity_id: uuidv7(), entity_name: "rack-b" };
    const log = (entity: typeof rackA, message: string) => ({
      record_id: uuidv7(),
      ts: Date.now(),
      flux_id: null,
      level: "error",
      message,
      attributes: {},
      ...entity,
    });
    // A client allowed on rack-a's subjects writes one honest line and one in rack-b's name.
    await js.publish(
      telemetrySubject("logs", "rack-a"),
      cbor.encode({
        v: 1,
        kind: "logs",
        records: [log(rackA, "claims honest"), log(rackB, "claims forged")],
      }),
      { msgID: uuidv7() },
    );
    const journal = {
      record_id: uuidv7(),
      ts: Date.now(),
      trace_id: "0af7651916cd43dd8448eb211c80319c",
      flux_id: uuidv7(),
      msg_type: "card.auth.request",
      direction: "inbound",
      status: "ok",
      ...rackB,
    };
    await js.publish(journalSubject("rack-a"), cbor.encode({ v: 1, kind: "messages", records: [journal] }), {
      msgID: uuidv7(),
    });

    await eventually("both forged records dead-lettered", async () => (dead.length >= 2 ? true : undefined));
    sub.unsubscribe();
    expect(dead).toEqual(
      expect.arrayContaining([
        {
          subject: "flux.dlq.telemetry.logs",
          reason:
            'records[1]: entity_name "rack-b" is not rack-a, the rack its subject flux.telemetry.logs.rack-a names',
        },
        {
          subject: "flux.dlq.journal.rack-a",
          reason:
            'records[0]: entity_name "rack-b" is not rack-a, the rack its subject flux.journal.rack-a names',
        },
      ]),
    );

    const stored = await eventually("the honest line stored", async () => {
      const res = await fetch(`${mixer.apiUrl}/api/v1/telemetry/logs?since=1h&q=claims`, {
        headers: { authorization: `Bearer ${mixer.token}` },
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json()) as { logs: { message: string; entity_name: string }[] };
      return body.logs.length > 0 ? body.logs : undefined;
    });
    expect(stored.map((l) => [l.entity_name, l.message])).toEqual([["rack-a", "claims honest"]]);
    const messages = await fetch(`${mixer.apiUrl}/api/v1/messages?since=1h&entity=rack-b`, {
      headers: { authorization: `Bearer ${mixer.token}` },
      signal: AbortSignal.timeout(30_000),
    });
    expect(((await messages.json()) as { messages: unknown[] }).messages).toEqual([]);
  });

  it("prints only lines at or above logging.level", () => {
    expect(mixer.output()).toContain("snake bridge: dead-lettered a message from flux.telemetry.logs.rack-a");
    expect(mixer.output()).not.toMatch(/GET \/api\/v1\/telemetry\/logs/);
  });
});
