import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { encodeFluxMsg } from "../fluxmsg/codec.ts";
import type { FluxMsg } from "../fluxmsg/message.ts";
import { newFluxMsg } from "../fluxmsg/produce.ts";
import { seededRandom } from "../random/seeded-random.ts";
import { hmacSha256 } from "./hmac-sha256.ts";
import {
  decodeIso8583,
  decodeWithSpec,
  encodeIso8583,
  encodeWithSpec,
  type FluxSpec,
  journalView,
  maskPan,
  SpecCodecError,
  SpecMaskError,
  specHash,
  validateSpec,
} from "./index.ts";
import { luhnDigit, visaAuthFrame } from "./samples/visa-v1-auth.ts";

function load(yaml: string, file = "spec.yaml"): FluxSpec {
  const result = validateSpec(yaml, { file });
  if (!result.ok)
    throw new Error(result.problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`).join("\n"));
  return result.spec;
}

const visa = load(readFileSync("examples/specs/visa-v1.yaml", "utf8"), "visa-v1.yaml");
const sampleFrames = readFileSync("examples/samples/visa-v1-auth.hex", "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "" && !line.startsWith("#"))
  .map((line) => new Uint8Array(Buffer.from(line.trim(), "hex")));

const ascii = (text: string) => new TextEncoder().encode(text);
const PAN = "4111111111111111";

function message(fields: Partial<FluxMsg>): FluxMsg {
  const draft = newFluxMsg({
    type: "card.frame",
    data: {},
    trace: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  });
  return { ...draft, src: { rack: "r", gear: "g", port: "out" }, path: [], ...fields };
}

/** Every way a PAN could hide in bytes: as text, and as the hex or base64 of its text. */
function containsClear(bytes: Uint8Array, pan: string): boolean {
  const latin1 = String.fromCharCode(...bytes);
  return latin1.includes(pan) || latin1.includes(Buffer.from(pan).toString("base64").slice(0, 16));
}

describe("visa-v1", () => {
  it("validates, and hashes the same however it is written", async () => {
    expect(visa.spec).toMatchObject({ id: "visa-v1", version: "1.0.0" });
    expect(visa.fields.filter((f) => f.promote).map((f) => f.name)).toEqual([
      "pan",
      "amount",
      "stan",
      "response_code",
      "terminal_id",
      "merchant_id",
      "currency",
    ]);
    const reordered = load(JSON.stringify(JSON.parse(JSON.stringify(visa))));
    expect(await specHash(reordered)).toBe(await specHash(visa));
  });

  it("decodes every frame of the sample file", () => {
    expect(sampleFrames.length).toBeGreaterThanOrEqual(5);
    for (const raw of sampleFrames) {
      const { data, type } = decodeWithSpec(visa, raw);
      expect(["card.auth.request", "card.auth.response"]).toContain(type);
      const card = data.card as { pan: string; expiry: string };
      expect(card.pan).toMatch(/^\d{16}$/);
      expect(luhnDigit(card.pan.slice(0, -1))).toBe(card.pan.at(-1));
      expect(data.amount).toBeTypeOf("number");
      expect(data.stan).toMatch(/^\d{6}$/);
      expect(data.currency).toMatch(/^(978|840|826)$/);
      if (type === "card.auth.response") expect(data.response_code).toMatch(/^\d\d$/);
    }
  });

  it("encodes what it decodes, byte for byte", () => {
    for (const raw of sampleFrames) {
      const { data, type } = decodeWithSpec(visa, raw);
      const again = encodeWithSpec(visa, data);
      expect(again.type).toBe(type);
      expect(Buffer.from(again.raw).toString("hex")).toBe(Buffer.from(raw).toString("hex"));
    }
  });

  it("decodes the generator's frames (the preset and the spec file agree)", () => {
    const random = seededRandom(7);
    for (let seq = 1; seq <= 200; seq++) {
      const { data } = decodeWithSpec(visa, visaAuthFrame(seq, random, new Date(), seq % 2 === 0));
      expect(data.stan).toBe(String(seq).padStart(6, "0"));
    }
  });

  it("names the field and the offset of a frame that does not decode, never its value", () => {
    const frame = sampleFrames[0] as Uint8Array;
    const cut = frame.subarray(0, 20);
    expect(() => decodeWithSpec(visa, cut)).toThrow(
      /^pan \(field 2\) at offset 14: the frame ends after 6 of its 16 bytes$/,
    );
    const badMti = frame.slice();
    badMti.set(ascii("0200"), 0);
    expect(() => decodeWithSpec(visa, badMti)).toThrow(/mti \(field mti\): value not in msg_type.map|mti/);
    const unknown = frame.slice();
    unknown[8] = (unknown[8] as number) | 0x80; // bit 33 (field 33): not in the layout
    try {
      decodeWithSpec(visa, unknown);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SpecCodecError);
      expect((error as Error).message).toMatch(
        /^field 33 at offset \d+: present in the bitmap but not in the spec's layout$/,
      );
      expect((error as Error).message).not.toMatch(/\d{6}/);
    }
  });
});

describe("ISO 8583 frames", () => {
  const layout = {
    bitmap: "hex" as const,
    elements: new Map([
      [2, { format: "llvar" as const, length: 19 }],
      [70, { format: "fixed" as const, length: 3 }],
      [102, { format: "lllvar" as const, length: 28 }],
    ]),
  };

  it("round-trips a secondary bitmap and hex bitmaps", () => {
    const frame = {
      mti: "0800",
      fields: new Map([
        [2, ascii(PAN)],
        [70, ascii("301")],
        [102, ascii("ACCOUNT-1")],
      ]),
    };
    const bytes = encodeIso8583(layout, frame);
    const text = new TextDecoder().decode(bytes);
    expect(text.slice(0, 4)).toBe("0800");
    expect(text.slice(4, 36)).toBe("C0000000000000000400000004000000");
    expect(text.slice(36)).toBe(`16${PAN}301009ACCOUNT-1`);
    const back = decodeIso8583(layout, bytes);
    expect(back.mti).toBe("0800");
    expect([...back.fields].map(([n, v]) => [n, new TextDecoder().decode(v)])).toEqual([
      [2, PAN],
      [70, "301"],
      [102, "ACCOUNT-1"],
    ]);
  });

  it("refuses a value that does not fit its element", () => {
    expect(() => encodeIso8583(layout, { mti: "0800", fields: new Map([[70, ascii("30")]]) })).toThrow(
      "field 70 at offset 0: 2 bytes where the layout takes exactly 3",
    );
    expect(() => decodeIso8583(layout, ascii(`0800${"4".padEnd(16, "0")}99${PAN}`))).toThrow(
      "field 2 at offset 20: length 99 is over the layout's 19",
    );
    expect(() => decodeIso8583(layout, ascii(`0800${"4".padEnd(16, "0")}16${PAN}XX`))).toThrow(
      "frame at offset 38: 2 bytes follow the last field",
    );
  });
});

describe("masking", () => {
  it("keeps the first 6 and last 4 of a PAN, and nothing of a short value", () => {
    expect(maskPan(PAN)).toBe("411111******1111");
    expect(maskPan("4111111111111111111")).toBe("411111*********1111");
    expect(maskPan("123456789012")).toBe("************");
  });

  it("computes HMAC-SHA256 as RFC 4231 says", () => {
    const key = new Uint8Array(20).fill(0x0b);
    expect(Buffer.from(hmacSha256(key, ascii("Hi There"))).toString("hex")).toBe(
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    );
    const long = new Uint8Array(131).fill(0xaa);
    expect(
      Buffer.from(hmacSha256(long, ascii("Test Using Larger Than Block-Size Key - Hash Key First"))).toString(
        "hex",
      ),
    ).toBe("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  });
});

describe("journalView", () => {
  it("masks the PAN in data, raw and promoted, drops the expiry, keeps the rest", () => {
    const raw = sampleFrames[0] as Uint8Array<ArrayBuffer>;
    const decoded = decodeWithSpec(visa, raw);
    const pan = (decoded.data.card as { pan: string }).pan;
    const expiry = (decoded.data.card as { expiry: string }).expiry;
    const msg = message({
      raw,
      data: decoded.data as FluxMsg["data"],
      type: decoded.type,
      meta: { spec: "visa-v1" },
    });
    const { msg: kept, promoted } = journalView(visa, msg);
    expect(promoted).toEqual({
      pan: maskPan(pan),
      amount: decoded.data.amount,
      stan: decoded.data.stan,
      terminal_id: (decoded.data.acceptor as Record<string, string>).terminal_id,
      merchant_id: (decoded.data.acceptor as Record<string, string>).merchant_id,
      currency: decoded.data.currency,
    });
    expect(kept.data).toMatchObject({ card: { pan: maskPan(pan) } });
    expect((kept.data as { card: object }).card).not.toHaveProperty("expiry");
    // The masked raw still decodes with the spec: the same lengths, the expiry element left out.
    const again = decodeWithSpec(visa, kept.raw as Uint8Array);
    expect(again.data.card).toEqual({ pan: maskPan(pan) });
    expect(again.data.amount).toBe(decoded.data.amount);
    expect(kept.raw?.length).toBe(raw.length - 4);
    const everything = encodeFluxMsg({ ...kept, meta: { ...kept.meta, promoted: JSON.stringify(promoted) } });
    expect(containsClear(everything, pan)).toBe(false);
    expect(String.fromCharCode(...everything)).not.toContain(`${pan.slice(0, 6)}${pan.slice(6, 10)}`);
    expect(JSON.stringify(promoted)).not.toContain(pan);
    expect(String.fromCharCode(...(kept.raw as Uint8Array))).not.toContain(
      expiry + (decoded.data.acceptor as Record<string, string>).terminal_id,
    );
    // The message given is not changed (it is shared with other gears).
    expect((msg.data as { card: { pan: string } }).card.pan).toBe(pan);
  });

  it("promotes from raw, masked, when data does not hold the fields yet (an ingress journal)", () => {
    const raw = sampleFrames[1] as Uint8Array<ArrayBuffer>;
    const pan = (decodeWithSpec(visa, raw).data.card as { pan: string }).pan;
    const { msg: kept, promoted } = journalView(visa, message({ raw }));
    expect(promoted.pan).toBe(maskPan(pan));
    expect(containsClear(encodeFluxMsg(kept), pan)).toBe(false);
  });

  it("drops a raw that does not decode with a masking spec instead of keeping it unchecked", () => {
    const raw = ascii(`0100garbage${PAN}`);
    const { msg: kept, promoted } = journalView(visa, message({ raw }));
    expect(kept.raw).toBeUndefined();
    expect(kept.meta.spec_raw).toMatch(/^dropped/);
    expect(promoted).toEqual({});
    expect(containsClear(encodeFluxMsg(kept), PAN)).toBe(false);
  });

  it("hashes with the key, in data, promoted and a fixed raw, and refuses to work without it", () => {
    const spec = load(
      [
        "spec: {id: batch, version: 2, hash_key: SPEC_HASH_KEY}",
        "msg_type: {fixed: batch.line}",
        "format: {kind: fixed}",
        "fields:",
        "  - {name: pan, offset: 0, length: 16, mask: hash, promote: true}",
        "  - {name: amount, type: decimal, scale: 2, offset: 16, length: 10, promote: true}",
        "  - {name: note, offset: 26, length: 8, mask: drop}",
      ].join("\n"),
    );
    const raw = ascii(`${PAN}0000001550SECRET  `);
    const decoded = decodeWithSpec(spec, raw);
    expect(decoded).toEqual({ data: { pan: PAN, amount: 15.5, note: "SECRET" }, type: "batch.line" });
    expect(Buffer.from(encodeWithSpec(spec, decoded.data).raw).toString()).toBe(Buffer.from(raw).toString());
    const msg = message({ raw, data: decoded.data as FluxMsg["data"] });
    expect(() => journalView(spec, msg)).toThrow(SpecMaskError);
    const key = ascii("a key only the rack knows");
    const { msg: kept, promoted } = journalView(spec, msg, key);
    const digest = Buffer.from(hmacSha256(key, ascii(PAN))).toString("hex");
    expect(promoted).toEqual({ pan: digest.slice(0, 32), amount: 15.5 });
    expect(Buffer.from(kept.raw as Uint8Array).toString()).toBe(`${digest.slice(0, 16)}0000001550        `);
    expect(kept.data).toEqual({ pan: digest.slice(0, 32), amount: 15.5 });
    const other = journalView(spec, msg, ascii("another key")).promoted.pan;
    expect(other).not.toBe(promoted.pan);
  });

  it("masks a JSON raw by path", () => {
    const spec = load(
      [
        "spec: {id: web-order, version: 1}",
        "msg_type: {field: kind, prefix: 'order.'}",
        "format: {kind: json}",
        "fields:",
        "  - {name: kind}",
        "  - {name: pan, path: payment.card, mask: pan, promote: true}",
        "  - {name: cvv, path: payment.cvv, mask: drop}",
      ].join("\n"),
    );
    const raw = ascii(JSON.stringify({ kind: "new", payment: { card: PAN, cvv: "123" } }));
    expect(decodeWithSpec(spec, raw).type).toBe("order.new");
    const { msg: kept, promoted } = journalView(spec, message({ raw }));
    expect(JSON.parse(new TextDecoder().decode(kept.raw))).toEqual({
      kind: "new",
      payment: { card: maskPan(PAN) },
    });
    expect(promoted).toEqual({ pan: maskPan(PAN) });
  });
});
