import { describe, expect, it } from "vitest";
import { cbor } from "./cbor.ts";
import { decodeFluxMsg, encodeFluxMsg, FluxMsgDecodeError } from "./codec.ts";
import { checkLimits } from "./limits.ts";
import type { FluxMsg } from "./message.ts";
import { newFluxMsg, produce } from "./produce.ts";
import { businessDeadLetterSubject, fluxMsgSubject } from "./subjects.ts";
import { formatTraceparent, parseTraceparent } from "./traceparent.ts";

const TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const FROM = { rack: "rack-nyc-01", gear: "parser", port: "out" };
const LIMITS = { maxHops: 64, maxPayloadSize: 2_097_152 };

function message(overrides: Partial<FluxMsg> = {}): FluxMsg {
  const produced = produce(
    newFluxMsg({ type: "card.auth", data: { amount: 12.5, pan: "4111" }, trace: TRACE }),
    FROM,
    LIMITS,
  );
  return { ...produced.msg, ...overrides };
}

describe("fluxMsg codec", () => {
  it("round-trips every field through CBOR, raw bytes included", () => {
    const msg = message({
      raw: new Uint8Array([0, 1, 254]),
      ref_id: "0190b3a0-0000-7000-8000-000000000001",
      meta: { k: "v" },
    });
    expect(decodeFluxMsg(encodeFluxMsg(msg))).toEqual(msg);
  });

  it("refuses bad CBOR and bad shapes with the field at fault", () => {
    expect(() => decodeFluxMsg(new Uint8Array([0xff, 0xff]))).toThrow(FluxMsgDecodeError);
    const bad = { ...message(), trace: "00-abc", id: "not-a-uuid" };
    expect(() => decodeFluxMsg(cbor.encode(bad))).toThrow(/id: .*trace: expected a W3C traceparent/);
  });

  it("accepts only UUID v7 ids", () => {
    const v4 = { ...message(), id: "9f3c4a7e-1d2b-4c5d-8e6f-0a1b2c3d4e5f" };
    expect(() => decodeFluxMsg(cbor.encode(v4))).toThrow(/^not a fluxMsg: id:/);
  });
});

describe("traceparent", () => {
  it("parses and formats W3C traceparents", () => {
    const parsed = parseTraceparent(TRACE);
    expect(parsed).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      sampled: true,
    });
    expect(formatTraceparent(parsed!)).toBe(TRACE);
  });

  it.each([
    ["00", false],
    ["01", true],
    ["0a", false],
    ["0b", true],
    ["ff", true],
  ])("reads the sampled bit of flags %s", (flags, sampled) => {
    expect(parseTraceparent(`${TRACE.slice(0, -2)}${flags}`)?.sampled).toBe(sampled);
  });

  it.each([
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
    "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
    "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-g1",
  ])("refuses %s", (text) => {
    expect(parseTraceparent(text)).toBeUndefined();
  });
});

describe("produce and checkLimits", () => {
  it("adds a hop and sets src without changing the input", () => {
    const first = message();
    const next = produce(first, { ...FROM, gear: "router", port: "approve" }, LIMITS, 42);
    expect(next.ok).toBe(true);
    expect(next.msg.src).toEqual({ rack: "rack-nyc-01", gear: "router", port: "approve" });
    expect(next.msg.path.map((hop) => hop.gear)).toEqual(["parser", "router"]);
    expect(next.msg.path[1]?.ts).toBe(42);
    expect(first.path).toHaveLength(1);
    expect(next.msg.id).toBe(first.id);
  });

  it("refuses a message past max_hops with the reason", () => {
    let msg = message();
    for (let i = 0; i < 3; i++) msg = produce(msg, FROM, LIMITS).msg;
    expect(msg.path).toHaveLength(4);
    expect(checkLimits(msg, { ...LIMITS, maxHops: 4 }).ok).toBe(true);
    const over = produce(msg, FROM, { ...LIMITS, maxHops: 4 });
    expect(over).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^max_hops exceeded: 5 hops, rack.max_hops is 4/),
    });
  });

  it("refuses a message whose encoding is over max_payload_size, counting raw bytes", () => {
    const msg = message({ raw: new Uint8Array(2_000) });
    const check = checkLimits(msg, { ...LIMITS, maxPayloadSize: 1_024 });
    expect(check).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        /^max_payload_size exceeded: \d+ bytes encoded, rack.max_payload_size is 1024$/,
      ),
    });
    expect(checkLimits(msg, LIMITS)).toEqual({ ok: true });
    const exact = encodeFluxMsg(msg).byteLength;
    expect(checkLimits(msg, { ...LIMITS, maxPayloadSize: exact })).toEqual({ ok: true });
    expect(checkLimits(msg, { ...LIMITS, maxPayloadSize: exact - 1 }).ok).toBe(false);
  });

  it("bounds data of every JSON shape from above, exactly at the limit", () => {
    const data = {
      text: "é€😀".repeat(50),
      list: [1, -(2 ** 40), 0.1, true, null, [{ ключ: "значение" }]],
      nested: { a: { b: { c: "x".repeat(300) } } },
    };
    const msg = message({ data, meta: { "http.status": "200" } });
    const exact = encodeFluxMsg(msg).byteLength;
    expect(checkLimits(msg, { ...LIMITS, maxPayloadSize: exact })).toEqual({ ok: true });
    expect(checkLimits(msg, { ...LIMITS, maxPayloadSize: exact - 1 }).ok).toBe(false);
  });
});

describe("subjects", () => {
  it("names guaranteed lanes by receiving port and dead letters by rack", () => {
    expect(fluxMsgSubject("core", "authorizer", "in")).toBe("flux.msg.core.authorizer.in");
    expect(fluxMsgSubject("a.b", "g*", "p>")).toBe("flux.msg.a_b.g_.p_");
    expect(businessDeadLetterSubject("rack-nyc-01")).toBe("flux.dlq.msg.rack-nyc-01");
  });
});
