import { describe, expect, it } from "vitest";
import { streamSubjectProblem, subjectSyntaxProblem, subjectsOverlap } from "./stream-subjects.ts";

describe("subjectsOverlap", () => {
  it.each([
    ["flux.>", "flux.ctl.>", true],
    [">", "flux.ctl.>", true],
    ["*.>", "flux.ctl.>", true],
    ["*.*.*", "flux.ctl.>", true],
    ["*.*", "flux.ctl.>", false],
    ["flux.*.enroll", "flux.ctl.>", true],
    ["flux.ctl", "flux.ctl.>", false],
    ["flux.ctlx.>", "flux.ctl.>", false],
    ["flux.msg.>", "flux.ctl.>", false],
    ["a.b", "a.b", true],
    ["a.*", "*.b", true],
  ])("%s and %s: %s", (a, b, overlap) => {
    expect(subjectsOverlap(a, b)).toBe(overlap);
    expect(subjectsOverlap(b, a)).toBe(overlap);
  });
});

describe("streamSubjectProblem", () => {
  it.each(["flux.msg.>", "flux.gear.>", "fluxrig.>", "orders.*.created", "a"])("accepts %s", (subject) => {
    expect(streamSubjectProblem(subject)).toBeUndefined();
  });

  it.each([
    [">", "it would capture flux.ctl.>"],
    ["*.>", "it would capture flux.ctl.>"],
    ["flux.>", "it would capture flux.ctl.>"],
    ["flux.ctl.enroll", "it would capture flux.ctl.>"],
    ["flux.telemetry.logs.*", "it would capture flux.telemetry.>"],
    ["flux.dlq.>", "it would capture flux.dlq.>"],
    ["_INBOX.>", "it would capture _INBOX.>"],
    ["$JS.API.>", "the NATS server's own API"],
    ["a b", "no spaces or control characters"],
    ["a\u0000b", "no spaces or control characters"],
    ["a..b", "no empty token"],
    [".a", "no empty token"],
    ["a.", "no empty token"],
    ["", "1 to 255 characters"],
    ["a".repeat(256), "1 to 255 characters"],
    ["a.b*", "wildcards only as a whole token"],
    ["a.>.b", '">" may only be the last token'],
  ])("refuses %j: %s", (subject, reason) => {
    expect(streamSubjectProblem(subject)).toContain(reason);
  });

  it("tells syntax apart from capture", () => {
    expect(subjectSyntaxProblem(">")).toBeUndefined();
    expect(subjectSyntaxProblem("a b")).toBeDefined();
  });
});
