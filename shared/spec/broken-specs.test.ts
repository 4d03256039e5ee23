import { describe, expect, it } from "vitest";
import { formatProblem } from "../scenario/scenario-error.ts";
import { validateSpec } from "./validate.ts";

/** A small valid ISO spec, one line per entry, so each broken case changes a line and says where it must be reported. */
const BASE = [
  "spec: {id: t-v1, version: 1}", // 1
  "msg_type: {field: mti, map: {'0100': auth}}", // 2
  "format: {kind: iso8583}", // 3
  "fields:", // 4
  "  - {name: mti, iso8583: {field: mti}}", // 5
  "  - {name: pan, iso8583: {field: 2, format: llvar, length: 19}, mask: pan, promote: true}", // 6
  "  - {name: amount, type: int, iso8583: {field: 4, format: fixed, length: 12}, promote: true}", // 7
  "  - {name: stan, iso8583: {field: 11, format: fixed, length: 6}}", // 8
];

function edit(changes: Record<number, string>, extra: string[] = []): string {
  return [...BASE.map((line, i) => changes[i + 1] ?? line), ...extra].join("\n");
}

const FIXED = [
  "spec: {id: f-v1, version: 1}", // 1
  "msg_type: {fixed: batch.line}", // 2
  "format: {kind: fixed}", // 3
  "fields:", // 4
  "  - {name: pan, offset: 0, length: 16, mask: pan}", // 5
  "  - {name: amount, type: int, offset: 16, length: 10}", // 6
];

/** [what, yaml, a problem expected: "line:col path: message fragment"] */
const CASES: [string, string, string][] = [
  ["YAML syntax", edit({ 6: "  - {name: pan, iso8583: {field: 2" }), "7:3 (yaml):"],
  ["not a map", "- a\n- list\n", "1:1 (document): expected a map"],
  ["unknown section", edit({}, ["extra: 1"]), '9:1 extra: unknown section "extra"'],
  ["missing spec", edit({ 1: "# none" }), "2:1 spec: missing (expected a map)"],
  ["bad spec id", edit({ 1: "spec: {id: visa.v1, version: 1}" }), "1:12 spec.id: expected letters, digits"],
  [
    "unknown format",
    edit({ 3: "format: {kind: xml}" }),
    "3:16 format.kind: expected kind: iso8583, fixed or json",
  ],
  [
    "unknown field key",
    edit({ 8: "  - {name: stan, iso8583: {field: 11, format: fixed, length: 6}, promot: true}" }),
    "8:66 fields[3].promot: unknown key",
  ],
  [
    "unknown mask",
    edit({ 8: "  - {name: stan, iso8583: {field: 11, format: fixed, length: 6}, mask: star}" }),
    '8:72 fields[3].mask: expected one of "pan", "hash", "drop", got "star"',
  ],
  [
    "ISO field number out of range",
    edit({ 8: "  - {name: stan, iso8583: {field: 1, format: fixed, length: 6}}" }),
    "8:35 fields[3].iso8583.field: Too small: expected number to be >=2",
  ],
  [
    "LLVAR over 99",
    edit({ 6: "  - {name: pan, iso8583: {field: 2, format: llvar, length: 190}, mask: pan}" }),
    "6:60 fields[1].iso8583.length: llvar holds at most 99 bytes, got 190",
  ],
  [
    "duplicate field name",
    edit({ 8: "  - {name: amount, iso8583: {field: 11, format: fixed, length: 6}}" }),
    '8:12 fields[3].name: duplicate field name "amount" (as fields[2])',
  ],
  [
    "duplicate ISO element",
    edit({ 8: "  - {name: stan, iso8583: {field: 4, format: fixed, length: 6}}" }),
    "8:35 fields[3].iso8583.field: ISO 8583 field 4 is already amount (fields[2])",
  ],
  [
    "offset in an ISO spec",
    edit({ 8: "  - {name: stan, offset: 3, length: 6}" }),
    "8:26 fields[3].offset: offset and length place a field in a fixed raw; this spec's format is iso8583",
  ],
  [
    "ISO location in a JSON spec",
    edit({ 3: "format: {kind: json}" }),
    "5:26 fields[0].iso8583: an ISO 8583 field number in a json spec",
  ],
  [
    "pan mask on a number",
    edit({ 7: "  - {name: amount, type: int, iso8583: {field: 4, format: fixed, length: 12}, mask: pan}" }),
    "7:85 fields[2].mask: mask pan keeps 6 + 4 characters of text; this field is int",
  ],
  [
    "hash mask without a key",
    edit({ 8: "  - {name: stan, iso8583: {field: 11, format: fixed, length: 6}, mask: hash}" }),
    "8:72 fields[3].mask: mask hash needs a key",
  ],
  [
    "hash mask on a number",
    edit({
      1: "spec: {id: t-v1, version: 1, hash_key: K}",
      7: "  - {name: amount, type: int, iso8583: {field: 4, format: fixed, length: 12}, mask: hash}",
    }),
    "7:85 fields[2].mask: mask hash turns the value into hex text",
  ],
  [
    "promoting a dropped field",
    edit({ 6: "  - {name: pan, iso8583: {field: 2, format: llvar, length: 19}, mask: drop, promote: true}" }),
    "6:86 fields[1].promote: a dropped field cannot be promoted",
  ],
  [
    "msg_type from a masked field",
    edit({ 2: "msg_type: {field: pan}" }),
    '2:19 msg_type.field: "pan" is masked: the message type would carry it in clear',
  ],
  [
    "msg_type from no field",
    edit({ 2: "msg_type: {field: mtt}" }),
    '2:19 msg_type.field: no field named "mtt" in fields',
  ],
  [
    "promoting a path that holds a masked field",
    edit(
      { 6: "  - {name: pan, path: card.pan, iso8583: {field: 2, format: llvar, length: 19}, mask: pan}" },
      ["  - {name: card, path: card, promote: true}"],
    ),
    "9:24 fields[4].path: data path card overlaps card.pan of field pan",
  ],
  [
    "scale on a string",
    edit({ 8: "  - {name: stan, scale: 2, iso8583: {field: 11, format: fixed, length: 6}}" }),
    "8:25 fields[3].scale: scale is for type decimal",
  ],
  [
    "MTI typed as a number",
    edit({ 5: "  - {name: mti, type: int, iso8583: {field: mti}}" }),
    "5:23 fields[0].type: the MTI is text: type string",
  ],
  [
    "no fields",
    edit({ 5: "", 6: "", 7: "", 8: "" }).replace("fields:", "fields: []"),
    "4:9 fields: expected at least one field",
  ],
  [
    "a fixed slot reading the masked PAN",
    [...FIXED, "  - {name: bin, offset: 0, length: 6, promote: true}"].join("\n"),
    "7:25 fields[2].offset: bytes 0–5 overlap the masked field pan: they would reach data in clear",
  ],
  [
    "a fixed field with offset only",
    [...FIXED, "  - {name: code, offset: 26}"].join("\n"),
    "7:5 fields[2]: give both offset and length",
  ],
];

describe("validateSpec refuses a broken spec with the line, column and path of each problem", () => {
  it.each(CASES)("%s", (_what, yaml, expected) => {
    const result = validateSpec(yaml, { file: "t.yaml" });
    expect(result.ok).toBe(false);
    const lines = result.ok ? [] : result.problems.map(formatProblem);
    expect(
      lines.some((line) => line.startsWith(`t.yaml:${expected}`)),
      lines.join("\n"),
    ).toBe(true);
  });

  it("accepts the bases the cases break", () => {
    expect(validateSpec(BASE.join("\n")).ok).toBe(true);
    expect(validateSpec(FIXED.join("\n")).ok).toBe(true);
  });

  it("reports every problem of a file at once, in line order", () => {
    const result = validateSpec(
      edit({
        1: "spec: {id: visa.v1, version: 1}",
        8: "  - {name: stan, iso8583: {field: 11, format: fixed, length: 6}, mask: star}",
      }),
      { file: "t.yaml" },
    );
    expect(result.ok ? [] : result.problems.map((p) => `${p.line} ${p.path}`)).toEqual([
      "1 spec.id",
      "8 fields[3].mask",
    ]);
  });
});
