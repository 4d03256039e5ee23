import { describe, expect, it } from "vitest";
import type { FluxMsgDraft } from "../../../shared/fluxmsg/produce.ts";
import { type FieldPath, FieldWriter, fieldPath, readField } from "./field-path.ts";
import { sampleMessage } from "./gear-harness.ts";

const writeField = (msg: FluxMsgDraft, path: FieldPath, value: unknown) =>
  new FieldWriter(msg).write(path, value).msg;

describe("field paths", () => {
  it("keeps dots in a meta key", () => {
    const path = fieldPath("meta.http.status");
    expect(path).toEqual(["meta", "http.status"]);
    const msg = writeField(sampleMessage(), path, 404);
    expect(msg.meta["http.status"]).toBe("404");
    expect(readField(msg, path)).toBe("404");
    expect(writeField(msg, path, undefined).meta).not.toHaveProperty("http.status");
  });

  it("writes and deletes along data, through lists, without changing the input", () => {
    const input = sampleMessage({ data: { items: [{ a: 1 }, { a: 2 }], keep: true, drop: "x" } });
    const set = writeField(input, fieldPath("data.items.1.a"), 3);
    expect(set.data).toEqual({ items: [{ a: 1 }, { a: 3 }], keep: true, drop: "x" });
    const removed = writeField(
      writeField(set, fieldPath("data.items.0"), undefined),
      fieldPath("data.drop"),
      undefined,
    );
    expect(removed.data).toEqual({ items: [{ a: 3 }], keep: true });
    expect(writeField(input, fieldPath("data.new.deep"), "v").data).toMatchObject({ new: { deep: "v" } });
    expect(input.data).toEqual({ items: [{ a: 1 }, { a: 2 }], keep: true, drop: "x" });
    expect(readField(input, fieldPath("data.keep.deeper"))).toBeUndefined();
  });

  it("copies the message and each container once however many writes go through them", () => {
    const input = sampleMessage({ data: { card: { pan: "4111" }, track2: "x" }, meta: { a: "1" } });
    const writer = new FieldWriter(input)
      .write(fieldPath("data.card.scheme"), "visa")
      .write(fieldPath("data.card.bin"), "411111")
      .write(fieldPath("data.track2"), undefined)
      .write(fieldPath("data.checked"), true)
      .write(fieldPath("meta.b"), "2")
      .write(fieldPath("meta.c"), "3");
    expect(writer.msg.data).toEqual({ card: { pan: "4111", scheme: "visa", bin: "411111" }, checked: true });
    expect(writer.msg.meta).toEqual({ a: "1", b: "2", c: "3" });
    expect(input.data).toEqual({ card: { pan: "4111" }, track2: "x" });
    expect(input.meta).toEqual({ a: "1" });
    expect(new FieldWriter(input).msg).toBe(input);
  });
});
