import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBin } from "../../../test/helpers/run-bin.ts";

describe("fluxrig scenario validate (the real binary)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-scenario-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("prints a one-line summary of a valid scenario and exits 0", async () => {
    const r = await runBin("fluxrig", ["scenario", "validate", "examples/scenarios/card-authorization.yaml"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "examples/scenarios/card-authorization.yaml: valid: card-auth 1.0.0: 2 racks, 6 gears, 8 wires (6 hot, 2 guaranteed)\n",
    );
  });

  it("prints every problem as file:line:col path: message and exits 2", async () => {
    const file = join(dir, "broken.yaml");
    await writeFile(
      file,
      [
        "meta: {name: t, version: 1}",
        "racks: {a: {name: rack-a}}",
        "gears:",
        "  - {name: g, type: generator, config: {rate: fast}}",
        "  - {name: s, type: log-snk}",
        "wires: [{from: g.out, to: s.in}]",
      ].join("\n"),
    );
    const r = await runBin("fluxrig", ["scenario", "validate", file]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")).toEqual([
      `${file}:4:47 gears[0].config.rate: expected a number, got "fast"`,
      `${file}:5:21 gears[1].type: unknown gear type "log-snk" (did you mean "log-sink"?); known: generator, http-in, tcp-in, transform, router, http-out, log-sink, codec`,
      `${file}: 2 problems`,
      "",
    ]);
  });
});
