import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type FluxSpec, maskPan, validateSpec } from "../../../../shared/spec/index.ts";
import { sampleMessage, startGear } from "../gear-harness.ts";
import { codecGear } from "./codec.ts";
import { generatorGear } from "./generator.ts";
import { journalGear } from "./journal.ts";
import { logSinkGear } from "./log-sink.ts";

const result = validateSpec(readFileSync("examples/specs/visa-v1.yaml", "utf8"));
if (!result.ok) throw new Error("examples/specs/visa-v1.yaml does not validate");
const visa: FluxSpec = result.spec;
const specs = { "visa-v1": visa, "visa-v1:1.0.0": visa };
const frames = readFileSync("examples/samples/visa-v1-auth.hex", "utf8")
  .split("\n")
  .filter((line) => /^[0-9a-f]+$/.test(line))
  .map((line) => new Uint8Array(Buffer.from(line, "hex")));

/** Everything a gear let out of the rack besides its messages: log lines and span attributes, as text. */
function telemetryText(gear: Awaited<ReturnType<typeof startGear>>): string {
  return JSON.stringify([gear.telemetry.logs, gear.telemetry.spans.map((s) => s.attributes)]);
}

describe("codec", () => {
  it("then a journal gear: the record holds the spec's folder, promoted fields and raw_msg masked, no clear PAN", async () => {
    const codec = await startGear(codecGear, { spec: "visa-v1" }, { specs });
    const journal = await startGear(journalGear, { direction: "inbound" }, { specs });
    for (const raw of frames) await codec.send("in", sampleMessage({ raw }));
    for (const { msg } of codec.emitted) await journal.send("in", msg);
    const pans = codec.emitted.map(({ msg }) => (msg.data as { card?: { pan?: string } }).card?.pan ?? "");
    expect(pans.filter((pan) => /^\d{16}$/.test(pan)).length).toBeGreaterThan(0);
    const entries = journal.telemetry.journaled;
    expect(entries).toHaveLength(frames.length);
    const stored = Buffer.from(JSON.stringify(entries.map((e) => e.promoted))).toString("latin1");
    const rawBytes = Buffer.concat(entries.map((e) => e.raw_msg ?? new Uint8Array())).toString("latin1");
    for (const pan of pans.filter(Boolean)) {
      expect(stored).not.toContain(pan);
      expect(rawBytes).not.toContain(pan);
      expect(stored).toContain(maskPan(pan));
    }
    expect(entries.every((e) => e.spec === "visa-v1" && e.raw_msg !== null)).toBe(true);
    expect(journal.telemetry.journaled[0]?.promoted).toMatchObject({ pan: maskPan(pans[0] as string) });
    await codec.stop();
    await journal.stop();
  });

  it("decodes raw frames into data, with the type and meta.spec from the spec", async () => {
    const gear = await startGear(codecGear, { spec: "visa-v1" }, { specs });
    for (const raw of frames) await gear.send("in", sampleMessage({ raw, data: { channel: "pos" } }));
    expect(gear.deadLetters).toEqual([]);
    const [first] = gear.emitted;
    expect(first?.msg.type).toBe("card.auth.request");
    expect(first?.msg.meta).toMatchObject({ spec: "visa-v1", spec_version: "1.0.0" });
    expect(first?.msg.data).toMatchObject({
      channel: "pos",
      mti: "0100",
      card: { pan: expect.stringMatching(/^\d{16}$/) },
    });
    expect(gear.emitted.map((e) => e.msg.type)).toContain("card.auth.response");
    await gear.stop();
  });

  it("dead-letters a frame that does not decode, naming the field and offset and not the card number", async () => {
    const gear = await startGear(codecGear, { spec: "visa-v1" }, { specs });
    const frame = frames[0] as Uint8Array;
    const pan = new TextDecoder().decode(frame.subarray(14, 30));
    await gear.send("in", sampleMessage({ raw: frame.slice(0, 25) }));
    await gear.send("in", sampleMessage({ data: { no: "raw" } }));
    expect(gear.deadLetters.map((d) => d.reason)).toEqual([
      "codec codec: does not decode with spec visa-v1 1.0.0: pan (field 2) at offset 14: the frame ends after 11 of its 16 bytes",
      "codec codec: no raw to decode with spec visa-v1",
    ]);
    expect(gear.emitted).toEqual([]);
    expect(telemetryText(gear)).not.toContain(pan.slice(0, 11));
    await gear.stop();
  });

  it("encodes data into raw: decode then encode gives the same bytes", async () => {
    const decoder = await startGear(codecGear, { spec: "visa-v1" }, { specs });
    const encoder = await startGear(codecGear, { spec: "visa-v1", mode: "encode" }, { specs });
    for (const raw of frames) await decoder.send("in", sampleMessage({ raw }));
    for (const { msg } of decoder.emitted) await encoder.send("in", { ...msg, raw: undefined } as never);
    expect(encoder.emitted.map((e) => Buffer.from(e.msg.raw as Uint8Array).toString("hex"))).toEqual(
      frames.map((f) => Buffer.from(f).toString("hex")),
    );
    await Promise.all([decoder.stop(), encoder.stop()]);
  });

  it("refuses to start without its spec", async () => {
    await expect(startGear(codecGear, { spec: "visa-v2" }, { specs })).rejects.toThrow(
      "gear codec (codec) failed to start: spec visa-v2 is not held by this rack",
    );
  });

  it("takes the generator's visa-v1-auth frames, and a log-sink after it logs the PAN masked", async () => {
    const generator = await startGear(generatorGear, {
      rate: 1000,
      count: 20,
      preset: "visa-v1-auth",
      type: "card.frame",
    });
    for (let i = 0; i < 20; i++) await generator.next();
    await generator.stop();
    const codec = await startGear(codecGear, { spec: "visa-v1" }, { specs });
    const sink = await startGear(logSinkGear, {}, { specs });
    for (const { msg } of generator.emitted) await codec.send("in", msg);
    expect(codec.deadLetters).toEqual([]);
    for (const { msg } of codec.emitted) await sink.send("in", msg);
    const pans = codec.emitted.map((e) => (e.msg.data as { card: { pan: string } }).card.pan);
    expect(new Set(pans).size).toBe(20);
    const logged = telemetryText(sink) + telemetryText(codec);
    for (const pan of pans) {
      expect(logged).not.toContain(pan);
      expect(logged).toContain(maskPan(pan));
    }
    expect(logged).not.toContain('"expiry"');
    // Without the spec, the sink withholds the data rather than log it in clear.
    const blind = await startGear(logSinkGear, {});
    await blind.send("in", codec.emitted[0]?.msg as never);
    expect(telemetryText(blind)).toContain("withheld: spec visa-v1 is not held here");
    await Promise.all([codec.stop(), sink.stop(), blind.stop()]);
  });
});
