import { describe, expect, it } from "vitest";
import { formatProblem } from "./scenario-error.ts";
import { validateScenario } from "./validate.ts";

/**
 * A small valid scenario, one line per entry, so each broken case below changes a line or two and says
 * where the problem must be reported.
 */
const BASE = [
  "meta: {name: t, version: 1}", // 1
  "racks:", // 2
  "  a: {name: rack-a}", // 3
  "  b: {selector: {role: core}}", // 4
  "gears:", // 5
  "  - {name: g, type: generator, rack: a}", // 6
  "  - {name: r, type: router, rack: a, config: {routes: [{to: big, when: [{field: data.amount, gt: 10}]}]}}", // 7
  "  - {name: s, type: log-sink, rack: b}", // 8
  "wires:", // 9
  "  - {from: g.out, to: r.in}", // 10
  "  - {from: r.big, to: s.in}", // 11
];

/** BASE with lines replaced (1-based line → new text; null removes nothing, extra lines are appended). */
function edit(changes: Record<number, string>, extra: string[] = []): string {
  return [...BASE.map((line, i) => changes[i + 1] ?? line), ...extra].join("\n");
}

/** [what, yaml, the problem expected: "line:col path: message fragment"] */
const CASES: [string, string, string][] = [
  [
    "YAML syntax",
    edit({ 3: "  a: {name: rack-a" }),
    "4:3 (yaml): Flow map in block collection must be sufficiently indented",
  ],
  ["duplicate YAML key", edit({ 4: "  a: {name: other}" }), "4:3 (yaml): Map keys must be unique"],
  // `yaml` parses an alias without its anchor and throws only when resolving it (the API answered 500).
  ["alias without its anchor", edit({ 3: "  a: *nowhere" }), "3:6 (yaml): Unresolved alias"],
  ["an alias alone", "*\u0000", "1:1 (yaml): Unresolved alias"],
  ["not a map", "- just\n- a list\n", "1:1 (document): expected a map"],
  ["unknown section", edit({}, ["wirez: []"]), '12:1 wirez: unknown section "wirez" (did you mean "wires"?)'],
  ["missing meta", edit({ 1: "# no meta" }), "2:1 meta: missing (expected a map)"],
  [
    "bad scenario name",
    edit({ 1: "meta: {name: my scenario, version: 1}" }),
    "1:14 meta.name: expected letters",
  ],
  ["unknown meta key", edit({ 1: "meta: {name: t, version: 1, owner: x}" }), "1:29 meta.owner: unknown key"],
  ["missing version", edit({ 1: "meta: {name: t}" }), "1:7 meta.version: missing"],
  ["no racks", edit({ 2: "racks: {}", 3: "", 4: "" }), "2:8 racks: expected at least one rack alias"],
  [
    "rack alias with a dot",
    edit({ 3: "  a.x: {name: rack-a}" }),
    "3:3 racks.a.x: bad name: expected letters",
  ],
  [
    "rack with name and selector",
    edit({ 3: "  a: {name: rack-a, selector: {x: y}}" }),
    "3:6 racks.a: expected exactly one of name",
  ],
  ["rack with neither", edit({ 3: "  a: {}" }), "3:6 racks.a: expected exactly one of name"],
  ["empty selector", edit({ 4: "  b: {selector: {}}" }), "4:17 racks.b.selector: empty selector"],
  [
    "selector value not a string",
    edit({ 4: "  b: {selector: {role: [x]}}" }),
    "4:24 racks.b.selector.role: expected a string, got a list",
  ],
  [
    "gears not a list or map",
    edit({ 5: "gears: 3", 6: "", 7: "", 8: "" }),
    "5:8 gears: expected a list of gears",
  ],
  [
    "unknown gear type",
    edit({ 8: "  - {name: s, type: log-snk, rack: b}" }),
    '8:21 gears[2].type: unknown gear type "log-snk" (did you mean "log-sink"?)',
  ],
  ["missing gear type", edit({ 8: "  - {name: s, rack: b}" }), "8:5 gears[2].type: missing"],
  [
    "unknown gear key",
    edit({ 8: "  - {name: s, type: log-sink, rack: b, level: warn}" }),
    "8:40 gears[2].level: unknown key",
  ],
  [
    "duplicate gear name",
    edit({ 8: "  - {name: g, type: log-sink, rack: b}" }),
    '8:12 gears[2].name: duplicate gear name "g" (first at line 6)',
  ],
  [
    "bad gear name",
    edit({ 6: "  - {name: g.1, type: generator, rack: a}" }),
    "6:12 gears[0].name: expected letters",
  ],
  [
    "unknown rack alias",
    edit({ 8: "  - {name: s, type: log-sink, rack: c}" }),
    '8:37 gears[2].rack: unknown rack alias "c"',
  ],
  [
    "missing rack with several racks",
    edit({ 8: "  - {name: s, type: log-sink}" }),
    "8:5 gears[2]: rack: missing: this scenario has several racks (a, b)",
  ],
  [
    "config of the wrong type",
    edit({ 6: "  - {name: g, type: generator, rack: a, config: {rate: fast}}" }),
    '6:56 gears[0].config.rate: expected a number, got "fast"',
  ],
  [
    "config out of range",
    edit({ 6: "  - {name: g, type: generator, rack: a, config: {rate: 0}}" }),
    "6:56 gears[0].config.rate: Too small",
  ],
  [
    "unknown config key",
    edit({ 6: "  - {name: g, type: generator, rack: a, config: {rat: 5}}" }),
    "6:50 gears[0].config.rat: unknown key",
  ],
  [
    "bad duration",
    edit({ 8: "  - {name: s, type: http-out, rack: b, config: {url: 'http://x', timeout: soon}}" }),
    "8:75 gears[2].config.timeout: ",
  ],
  [
    "bad enum in config",
    edit({ 8: "  - {name: s, type: log-sink, rack: b, config: {level: loud}}" }),
    '8:56 gears[2].config.level: expected one of "debug", "info", "warn", "error", got "loud"',
  ],
  [
    "router condition with two operators",
    edit({
      7: "  - {name: r, type: router, rack: a, config: {routes: [{to: big, when: [{field: data.amount, gt: 10, lt: 3}]}]}}",
    }),
    "7:73 gears[1].config.routes[0].when[0]: expected exactly one operator",
  ],
  [
    "router regex that does not compile",
    edit({
      7: "  - {name: r, type: router, rack: a, config: {routes: [{to: big, when: [{field: data.x, matches: '('}]}]}}",
    }),
    "7:98 gears[1].config.routes[0].when[0].matches: expected a regular expression",
  ],
  [
    "transform op unknown",
    edit({ 7: "  - {name: r, type: transform, rack: a, config: {ops: [{move: data.a}]}}" }),
    "7:56 gears[1].config.ops[0]: expected one of { set, value }",
  ],
  [
    "bad field path",
    edit({
      7: "  - {name: r, type: router, rack: a, config: {routes: [{to: big, when: [{field: amount, gt: 10}]}]}}",
    }),
    "7:81 gears[1].config.routes[0].when[0].field: expected a field path",
  ],
  [
    "wire end without a port",
    edit({ 10: "  - {from: g, to: r.in}" }),
    '10:12 wires[0].from: expected gear.port or rack.gear.port, got "g"',
  ],
  [
    "wire from an unknown gear",
    edit({ 10: "  - {from: gen.out, to: r.in}" }),
    '10:12 wires[0].from: unknown gear "gen"',
  ],
  [
    "wire to an unknown port",
    edit({ 10: "  - {from: g.out, to: r.input}" }),
    '10:23 wires[0].to: gear "r" (router) has no input "input"; its inputs: in',
  ],
  [
    "wire from an input",
    edit({ 11: "  - {from: r.in, to: s.in}" }),
    '11:12 wires[1].from: gear "r" (router) has no output "in" ("in" is an input)',
  ],
  [
    "wire from an undeclared route",
    edit({ 11: "  - {from: r.small, to: s.in}" }),
    '11:12 wires[1].from: gear "r" (router) has no output "small"; its outputs: big, default',
  ],
  [
    "wire with the wrong rack",
    edit({ 10: "  - {from: b.g.out, to: r.in}" }),
    '10:12 wires[0].from: gear "g" runs on rack "a", not "b"',
  ],
  [
    "wire to itself",
    edit({ 11: "  - {from: r.big, to: r.in}" }),
    '11:5 wires[1]: a wire from gear "r" to itself',
  ],
  ["duplicate wire", edit({}, ["  - {from: g.out, to: r.in}"]), "12:5 wires[2]: the same wire as wires[0]"],
  [
    "hot lane across racks",
    edit({ 11: "  - {from: r.big, to: s.in, lane: hot}" }),
    '11:35 wires[1].lane: a wire between racks "a" and "b" must be guaranteed',
  ],
  [
    "unknown lane",
    edit({ 11: "  - {from: r.big, to: s.in, lane: fast}" }),
    '11:35 wires[1].lane: expected one of "hot", "guaranteed", got "fast"',
  ],
  [
    "unknown wire key",
    edit({ 11: "  - {from: r.big, to: s.in, via: x}" }),
    "11:29 wires[1].via: unknown key",
  ],
  [
    "undeclared cycle",
    edit({ 8: "  - {name: s, type: transform, rack: a}", 11: "  - {from: r.big, to: s.in}" }, [
      "  - {from: s.out, to: r.in}",
    ]),
    "12:5 wires[2]: this wire closes a cycle (r → s → r)",
  ],
];

describe("broken scenarios", () => {
  it("has at least 30 cases", () => expect(CASES.length).toBeGreaterThanOrEqual(30));

  it.each(CASES)("%s", (_what, yaml, expected) => {
    const result = validateScenario(yaml, { file: "scenario.yaml" });
    expect(result.ok).toBe(false);
    const lines = result.ok ? [] : result.problems.map(formatProblem);
    expect(
      lines.some((line) => line.startsWith(`scenario.yaml:${expected}`)),
      lines.join("\n"),
    ).toBe(true);
  });

  it("reports every problem of a file at once, in file order", () => {
    const yaml = edit({
      6: "  - {name: g, type: generator, rack: a, config: {rate: fast}}",
      8: "  - {name: s, type: log-snk, rack: b}",
      11: "  - {from: r.big, to: s.in, lane: hot}",
    });
    const result = validateScenario(yaml, { file: "x.yaml" });
    expect(result.ok ? [] : result.problems.map((p) => `${p.line}:${p.col} ${p.path}`)).toEqual([
      "6:56 gears[0].config.rate",
      "8:21 gears[2].type",
      "11:35 wires[1].lane",
    ]);
  });
});
