import { describe, expect, it } from "vitest";
import { locateTomlKeys } from "./toml-locate.ts";

describe("locateTomlKeys", () => {
  it("finds tables, keys, dotted and quoted keys, and skips over multi-line values", () => {
    const text = [
      "top = 1", // 1
      "[a]", // 2
      'b = "x # not a comment"', // 3
      "c.d = 2", // 4
      '"e.f" = 3', // 5
      "g = '''", // 6
      "h = 4", // 7 (inside a string)
      "'''", // 8
      "i = [ 1,", // 9
      "  2 ]", // 10
      "j = { k = 1, l = { m = 2 } }", // 11
      "[a.n] # comment", // 12
      "o = true", // 13
    ].join("\n");
    const lines = locateTomlKeys(text);
    expect(Object.fromEntries(lines)).toEqual({
      top: 1,
      a: 2,
      "a.b": 3,
      "a.c.d": 4,
      "a.e.f": 5,
      "a.g": 6,
      "a.i": 9,
      "a.j": 11,
      "a.j.k": 11,
      "a.j.l": 11,
      "a.j.l.m": 11,
      "a.n": 12,
      "a.n.o": 13,
    });
  });
});
