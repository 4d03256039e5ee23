import { describe, expect, it } from "vitest";
import { fieldPath, readField, writeField } from "./field-path.ts";
import { sampleMessage } from "./gear-harness.ts";

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
});
