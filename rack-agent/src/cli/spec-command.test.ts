import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBin } from "../../../test/helpers/run-bin.ts";

describe("fluxrig spec validate (the real binary)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-spec-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("prints a one-line summary of a valid spec and exits 0", async () => {
    const r = await runBin("fluxrig", ["spec", "validate", "examples/specs/visa-v1.yaml"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "examples/specs/visa-v1.yaml: valid: visa-v1 1.0.0: iso8583, 13 fields (7 promoted, 2 masked)\n",
    );
  });

  it("prints every problem as file:line:col path: message and exits 2", async () => {
    const file = join(dir, "broken.yaml");
    await writeFile(
      file,
      [
        "spec: {id: cards, version: 1}",
        "msg_type: {field: pan}",
        "format: {kind: iso8583}",
        "fields:",
        "  - {name: pan, type: int, iso8583: {field: 2, format: llvar, length: 19}, mask: pan}",
      ].join("\n"),
    );
    const r = await runBin("fluxrig", ["spec", "validate", file]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")).toEqual([
      `${file}:2:19 msg_type.field: "pan" is masked: the message type would carry it in clear`,
      `${file}:5:82 fields[0].mask: mask pan keeps 6 + 4 characters of text; this field is int`,
      `${file}: 2 problems`,
      "",
    ]);
  });
});
