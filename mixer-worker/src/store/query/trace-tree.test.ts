import { describe, expect, it } from "vitest";
import { traceTree } from "./trace-tree.ts";

const span = (span_id: string, parent_span_id: string | null, ts: number) => ({
  span_id,
  parent_span_id,
  ts,
});
const shape = (spans: ReturnType<typeof span>[]) =>
  traceTree(spans).map(
    ({ span: s, depth, orphan }) => `${"-".repeat(depth)}${s.span_id}${orphan ? "!" : ""}`,
  );

describe("traceTree", () => {
  it("puts parents before children and siblings in start order, whatever the input order", () => {
    const spans = [
      span("c", "a", 3),
      span("b", "a", 2),
      span("a", null, 1),
      span("d", "b", 4),
      span("r", null, 0),
    ];
    expect(shape(spans)).toEqual(["r", "a", "-b", "--d", "-c"]);
  });

  it("shows a span whose parent is missing as an orphan root, and spans in a parent cycle once each", () => {
    expect(shape([span("a", null, 0), span("x", "gone", 1), span("y", "x", 2)])).toEqual(["a", "x!", "-y"]);
    expect(shape([span("p", "q", 0), span("q", "p", 1), span("s", "s", 2)])).toEqual(["s!", "p!", "-q"]);
  });
});
