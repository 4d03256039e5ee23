import { describe, expect, it } from "vitest";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { envelope } from "../../../shared/telemetry/batch-envelope.ts";
import { BatchInflater } from "./inflate-batch.ts";

/** Raw DEFLATE of `bytes` by the runtime's CompressionStream. */
async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const batch = (n: number) =>
  cbor.encode({
    v: 1,
    kind: "logs",
    records: Array.from({ length: n }, (_, i) => ({ i, message: `payment ${i} authorised` })),
  });

describe("BatchInflater", () => {
  it("takes a plain batch as it is, and inflates deflated ones into the same bytes, one after another", async () => {
    const inflater = new BatchInflater();
    const plain = batch(10);
    expect(await inflater.open(plain, 1 << 20)).toEqual({ ok: true, data: plain });
    // The second is larger than the first: the buffer grows, and each result is whole when opened.
    for (const n of [2_000, 20_000, 50]) {
      const original = batch(n);
      const opened = await inflater.open(envelope(await deflate(original)), 4 << 20);
      if (!opened.ok) throw new Error(opened.reason);
      expect(Buffer.from(opened.data).equals(Buffer.from(original))).toBe(true);
    }
  });

  it("refuses a message that inflates past mixer.max_payload_size, and one that is not DEFLATE", async () => {
    const inflater = new BatchInflater();
    // 64 MiB of zeros deflate to about 64 KiB.
    const bomb = envelope(await deflate(new Uint8Array(64 << 20)));
    expect(bomb.length).toBeLessThan(1 << 17);
    expect(await inflater.open(bomb, 1 << 20)).toEqual({
      ok: false,
      reason: "the deflated batch inflates past mixer.max_payload_size (1048576 bytes)",
    });
    const broken = envelope(Uint8Array.from([0xff, 0xff, 0xff, 0x00, 0x12]));
    expect(await inflater.open(broken, 1 << 20)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^cannot inflate the deflated batch: /),
    });
  });
});
