import { expect, it } from "vitest";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { decodeFluxMsg, encodeFluxMsg, FluxMsgDecodeError } from "../../../shared/fluxmsg/codec.ts";
import { sampleMessage } from "../gears/gear-harness.ts";
import {
  encodeLaneFrame,
  type FrameEntry,
  frameMsgId,
  frameSize,
  LANE_FRAME_VERSION,
  readLanePayload,
} from "./lane-frame.ts";
import { laneMsgId } from "./lane-msg-id.ts";
import { RecentIds } from "./recent-ids.ts";

const entryOf = (msg = sampleMessage()): FrameEntry => ({ id: laneMsgId(msg), data: encodeFluxMsg(msg) });

it("packs several fluxMsgs into one frame and reads each back with its own lane message id and bytes", () => {
  const msgs = Array.from({ length: 5 }, (_, i) =>
    sampleMessage({ data: { seq: i }, raw: new Uint8Array([i]) }),
  );
  const entries = msgs.map(entryOf);
  const frame = encodeLaneFrame(entries);
  expect((cbor.decode(frame) as { f: number }).f).toBe(LANE_FRAME_VERSION);
  const read = readLanePayload(frame);
  expect(read.map((e) => e.id)).toEqual(entries.map((e) => e.id));
  expect(read.map((e) => decodeFluxMsg(e.data))).toEqual(msgs);
  for (const entry of read) expect(entry.data.constructor).toBe(Uint8Array);
});

it("a frame of one is the bare fluxMsg, as lanes carried before frames, and a bare fluxMsg reads as a frame of one", () => {
  const msg = sampleMessage();
  const entry = entryOf(msg);
  expect(encodeLaneFrame([entry])).toBe(entry.data);
  const [read, ...rest] = readLanePayload(encodeFluxMsg(msg));
  expect(rest).toEqual([]);
  expect(read?.id).toBe(laneMsgId(msg));
  expect(read?.msg).toEqual(msg);
});

it("refuses what is neither a frame nor a fluxMsg, and a frame of an unknown version", () => {
  expect(() => readLanePayload(new Uint8Array([0xff, 0x00, 0x13]))).toThrow(FluxMsgDecodeError);
  expect(() => readLanePayload(cbor.encode({ hello: "world" }))).toThrow(/not a fluxMsg/);
  expect(() => readLanePayload(cbor.encode({ f: 2, m: [] }))).toThrow(/lane frame version 2 is not known/);
  expect(() => readLanePayload(cbor.encode({ f: 1, m: [["id", "not bytes"]] }))).toThrow(
    /entry 0 is not \[id, bytes\]/,
  );
  // A message in a frame that is not a fluxMsg is found out when it is decoded: alone, not the whole frame.
  const entries = [entryOf(), { id: "x:00000000", data: new Uint8Array([1, 2, 3]) }];
  const read = readLanePayload(encodeLaneFrame(entries));
  expect(read).toHaveLength(2);
  expect(() => decodeFluxMsg((read[1] as FrameEntry).data)).toThrow(FluxMsgDecodeError);
});

it("frame message ids: the same messages on the same subject give the same id; any other frame another", () => {
  const entries = Array.from({ length: 3 }, () => entryOf());
  const subject = "flux.msg.core.sink.in";
  const id = frameMsgId(subject, entries);
  expect(id).toMatch(/^f1-[0-9a-f]{32}$/);
  expect(
    frameMsgId(
      subject,
      entries.map((e) => ({ ...e })),
    ),
  ).toBe(id);
  expect(frameMsgId(subject, entries.slice(0, 2))).not.toBe(id);
  expect(frameMsgId(subject, [...entries].reverse())).not.toBe(id);
  expect(frameMsgId("flux.msg.core.other.in", entries)).not.toBe(id);
  // One message: its lane id stays readable; the subject still tells two lanes of one emit apart.
  const one = [entries[0] as FrameEntry];
  expect(frameMsgId(subject, one)).toMatch(new RegExp(`^${(entries[0] as FrameEntry).id}@[0-9a-f]{8}$`));
  expect(frameMsgId(subject, one)).not.toBe(frameMsgId("flux.msg.core.other.in", one));
});

it("frames never exceed the byte bound or the message bound; a message bigger than the bound goes alone", () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const queue = Array.from({ length: 2_000 }, () =>
    entryOf(sampleMessage({ data: { pad: "x".repeat(Math.floor(random() * 3_000)) } })),
  );
  const big = entryOf(sampleMessage({ data: { pad: "y".repeat(20_000) } }));
  queue.splice(700, 0, big);
  const maxBytes = 16_384;
  const frames: FrameEntry[][] = [];
  while (queue.length > 0) frames.push(queue.splice(0, frameSize(queue, 64, maxBytes)));
  expect(frames.flat()).toHaveLength(2_001);
  for (const frame of frames) {
    expect(frame.length).toBeLessThanOrEqual(64);
    if (frame.includes(big)) expect(frame).toEqual([big]);
    else expect(encodeLaneFrame(frame).length).toBeLessThanOrEqual(maxBytes);
  }
  // Small messages fill frames up to the message bound.
  const small = Array.from({ length: 300 }, () => entryOf());
  expect(frameSize(small, 256, 1_000_000)).toBe(256);
  expect(frameSize([], 256, 1_000_000)).toBe(0);
});

it("recent ids: remembered for about half the capacity and at least half the age, then forgotten", () => {
  let now = 0;
  const recent = new RecentIds(8, 1_000, () => now);
  for (let i = 0; i < 4; i++) recent.add(`a${i}`);
  expect(["a0", "a1", "a2", "a3"].every((id) => recent.has(id))).toBe(true);
  for (let i = 0; i < 3; i++) recent.add(`b${i}`);
  expect(recent.has("a0")).toBe(true); // the previous generation
  recent.add("b3");
  expect(recent.has("a0")).toBe(false);
  expect(recent.has("b0") && recent.has("b3")).toBe(true);
  // By age: ids are looked at every 64 adds.
  const timed = new RecentIds(1_000_000, 1_000, () => now);
  timed.add("old");
  now = 600;
  for (let i = 0; i < 128; i++) timed.add(`n${i}`);
  expect(timed.has("old")).toBe(true);
  now = 1_300;
  for (let i = 0; i < 128; i++) timed.add(`m${i}`);
  expect(timed.has("old")).toBe(false);
});
