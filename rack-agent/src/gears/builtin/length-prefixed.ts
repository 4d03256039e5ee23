/** The largest frame a 2-byte length prefix can say. */
export const MAX_FRAME = 0xffff;

/**
 * A frame with its 2-byte big-endian length prefix. Throws for a body over 65535 bytes.
 *
 * @example socket.write(frame(new TextEncoder().encode("hello")))
 */
export function frame(body: Uint8Array): Uint8Array {
  if (body.length > MAX_FRAME)
    throw new Error(`a frame holds at most ${MAX_FRAME} bytes, this one ${body.length}`);
  const out = new Uint8Array(body.length + 2);
  out[0] = body.length >> 8;
  out[1] = body.length & 0xff;
  out.set(body, 2);
  return out;
}

/**
 * Cuts a TCP byte stream into frames, whatever the chunking: a frame may arrive split over many chunks, or
 * many frames in one chunk.
 *
 * @example for (const body of reader.push(chunk)) handle(body);
 */
export class FrameReader {
  #buffer: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): Uint8Array<ArrayBuffer>[] {
    const buffer = this.#buffer.length === 0 ? chunk : concat(this.#buffer, chunk);
    const frames: Uint8Array<ArrayBuffer>[] = [];
    let at = 0;
    while (buffer.length - at >= 2) {
      const length = ((buffer[at] as number) << 8) | (buffer[at + 1] as number);
      if (buffer.length - at - 2 < length) break;
      frames.push(new Uint8Array(buffer.subarray(at + 2, at + 2 + length)));
      at += 2 + length;
    }
    this.#buffer = buffer.slice(at);
    return frames;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
