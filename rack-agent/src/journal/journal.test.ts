import { describe, expect, it } from "vitest";
import { decodeFluxMsg } from "../../../shared/fluxmsg/codec.ts";
import { journalRecordSchema } from "../../../shared/journal/record.ts";
import { scenarioPart, validateScenario } from "../../../shared/scenario/index.ts";
import { FlowRuntime, type GuaranteedLanes } from "../flow/flow-runtime.ts";
import type { LaneHandler } from "../flow/lane-consumer.ts";
import { journalGear } from "../gears/builtin/journal.ts";
import { recordingLog, recordingTelemetry, sampleMessage, startGear } from "../gears/gear-harness.ts";
import { GearRegistry } from "../gears/registry.ts";
import { Journal } from "./journal.ts";
import { buildJournalEntry, type JournalEntry } from "./journal-record.ts";

const ENTITY = {
  record_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
  entity_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
};
/** What the telemetry client makes of an entry: the stored record, as the mixer validates it. */
const asRecord = (entry: JournalEntry) =>
  journalRecordSchema.parse({ ...ENTITY, entity_name: "rack-a", ...entry });

describe("buildJournalEntry", () => {
  it("keeps a message without a spec whole, as CBOR, under generic/", () => {
    const msg = sampleMessage({ type: "order", data: { amount: 12 } });
    const { entry, withheld } = buildJournalEntry(msg, {
      direction: "inbound",
      status: "ok",
      src: null,
      dst: "parse",
      ts: 1_700_000_000_000,
    });
    expect(withheld).toBe(false);
    const record = asRecord(entry);
    expect(record).toMatchObject({
      ts: 1_700_000_000_000,
      flux_id: msg.id,
      trace_id: msg.trace.slice(3, 35),
      src_gear_id: null,
      dst_gear_id: "parse",
      msg_type: "order",
      direction: "inbound",
      status: "ok",
      promoted: null,
      spec: null,
    });
    expect(decodeFluxMsg(record.raw_msg as Uint8Array)).toEqual(msg);
  });

  it("keeps nothing of a spec'd message's content when no view can mask it", () => {
    const msg = sampleMessage({ meta: { spec: "visa-v1" }, data: { pan: "4111111111111111" } });
    const { entry, withheld } = buildJournalEntry(msg, {
      direction: "internal",
      status: "error",
      src: "a",
      dst: "b",
    });
    expect(withheld).toBe(true);
    expect(entry).toMatchObject({ raw_msg: null, promoted: null, spec: "visa-v1", status: "error" });
    expect(asRecord(entry).spec).toBe("visa-v1");
  });

  it("stores what the view gives: the masked message, promoted fields and the spec folder", () => {
    const msg = sampleMessage({ meta: { spec: "visa-v1" }, data: { pan: "4111111111111111" } });
    const { entry, withheld } = buildJournalEntry(
      msg,
      { direction: "outbound", status: "ok", src: "auth", dst: null },
      (m) => ({
        msg: { ...m, data: { pan: "411111******1111" } },
        promoted: { amount: 12, pan: "411111******1111" },
        spec: "visa-v1",
      }),
    );
    expect(withheld).toBe(false);
    expect(entry.promoted).toEqual({ amount: 12, pan: "411111******1111" });
    const kept = decodeFluxMsg(entry.raw_msg as Uint8Array);
    expect(kept.data).toEqual({ pan: "411111******1111" });
    expect(new TextDecoder().decode(entry.raw_msg as Uint8Array)).not.toContain("4111111111111111");
  });

  it("puts a spec id that cannot name a folder under generic/", () => {
    const msg = sampleMessage({ meta: { spec: "../etc" } });
    expect(
      buildJournalEntry(msg, { direction: "internal", status: "ok", src: null, dst: null }).entry.spec,
    ).toBe(null);
  });
});

describe("Journal", () => {
  it("counts what it withheld and warns once a minute", async () => {
    const telemetry = recordingTelemetry();
    const warnings: string[] = [];
    const journal = new Journal(telemetry, { warn: (line) => warnings.push(line) });
    const crossing = { direction: "internal", status: "ok", src: "a", dst: "b" } as const;
    await journal.record(sampleMessage({ meta: { spec: "visa-v1" } }), crossing);
    await journal.record(sampleMessage({ meta: { spec: "visa-v1" } }), crossing);
    await journal.record(sampleMessage(), crossing);
    expect([journal.recorded, journal.withheld, telemetry.journaled.length]).toEqual([3, 2, 3]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('names spec "visa-v1"');
  });
});

describe("journal gear", () => {
  it("records each message with its direction and status and passes it on unchanged", async () => {
    const gear = await startGear(journalGear, { direction: "inbound" }, { name: "ingress-journal" });
    const msg = sampleMessage({ type: "payment" });
    await gear.send("in", msg);
    const [out] = gear.emitted;
    expect(out?.port).toBe("out");
    // Unchanged but for what every hop sets: src (this gear), a hop on path, its span as the trace parent.
    const { src: _src, path: _path, trace: _trace, ...content } = out?.msg ?? msg;
    const { src: _s, path: _p, trace: _t, ...sent } = msg;
    expect(content).toEqual(sent);
    expect(gear.telemetry.journaled).toHaveLength(1);
    expect(gear.telemetry.journaled[0]).toMatchObject({
      flux_id: msg.id,
      src_gear_id: "upstream",
      dst_gear_id: "ingress-journal",
      direction: "inbound",
      status: "ok",
      msg_type: "payment",
    });
    await gear.stop();
  });

  it("refuses an unknown direction", async () => {
    await expect(startGear(journalGear, { direction: "sideways" })).rejects.toThrow(/config\.direction/);
  });
});

const GUARANTEED = (journal: string) => `
meta: {name: lanes, version: 1}
${journal}
racks: {a: {name: rack-a}, b: {name: rack-b}}
gears:
  - {name: src, type: generator, rack: a, config: {count: 0}}
  - {name: sink, type: log-sink, rack: b}
wires:
  - {from: src.out, to: sink.in}
`;

async function guaranteedRun(journal: string) {
  const result = validateScenario(GUARANTEED(journal));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const part = await scenarioPart(result.scenario, "b");
  const telemetry = recordingTelemetry();
  let handle: LaneHandler | undefined;
  const lanes: GuaranteedLanes = {
    publish: async () => undefined,
    consume: async (_inputs, h) => {
      handle = h;
    },
  };
  const flow = new FlowRuntime(
    {
      rackName: "rack-b",
      telemetry,
      log: recordingLog(telemetry, []),
      limits: { maxHops: 64, maxPayloadSize: 1 << 20 },
      secrets: { get: () => undefined },
      deadLetter: () => undefined,
    },
    GearRegistry.builtIn(),
    lanes,
  );
  await flow.apply(part);
  return { flow, telemetry, part, handle: handle as LaneHandler };
}

describe("journal: {guaranteed_wires: true}", () => {
  it("journals each message a guaranteed input delivered, once its gear is done", async () => {
    const { flow, telemetry, part, handle } = await guaranteedRun("journal: {guaranteed_wires: true}");
    expect(part.journal).toEqual({ guaranteed_wires: true });
    const msg = { ...sampleMessage(), src: { rack: "rack-a", gear: "src", port: "out" } };
    await handle("sink", "in", msg);
    expect(telemetry.journaled).toEqual([
      expect.objectContaining({
        flux_id: msg.id,
        src_gear_id: "src",
        dst_gear_id: "sink",
        direction: "internal",
        status: "ok",
      }),
    ]);
    await flow.stop();
  });

  it("journals nothing without the switch, and leaves the content hash of such scenarios alone", async () => {
    const { flow, telemetry, part, handle } = await guaranteedRun("");
    expect(part.journal).toBeUndefined();
    const off = await guaranteedRun("journal: {guaranteed_wires: false}");
    expect(off.part.scenario.hash).toBe(part.scenario.hash);
    await handle("sink", "in", sampleMessage());
    expect(telemetry.journaled).toEqual([]);
    await flow.stop();
    await off.flow.stop();
  });

  it("refuses an unknown key with its line", () => {
    const result = validateScenario(GUARANTEED("journal: {guaranteed_wire: true}"));
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems[0]).toMatchObject({ line: 3, path: expect.stringContaining("journal") });
  });
});
