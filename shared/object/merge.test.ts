import { describe, expect, it } from "vitest";
import { merge } from "./merge.ts";

describe("merge", () => {
  it("is what spreading the parts makes: later fields win, in the order a spread leaves them", () => {
    const a = { x: 1, y: 2 };
    const b = { y: 3, z: 4 };
    const c = { w: 5, x: 6 };
    const merged = merge(a, b, c);
    expect(merged).toEqual({ ...a, ...b, ...c });
    expect(Object.keys(merged)).toEqual(Object.keys({ ...a, ...b, ...c }));
    expect(merged).not.toBe(a);
    expect(a).toEqual({ x: 1, y: 2 });
  });

  it("skips undefined and null parts", () => {
    expect(merge({ x: 1 }, undefined, null)).toEqual({ x: 1 });
    expect(merge(undefined)).toEqual({});
  });

  it("keeps a __proto__ field a field, as a spread does, instead of making it the prototype", () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as object;
    const merged = merge({ y: 2 }, hostile) as Record<string, unknown>;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(merged.polluted).toBeUndefined();
    expect(Object.hasOwn(merged, "__proto__")).toBe(true);
    expect(merged.x).toBe(1);
  });
});
