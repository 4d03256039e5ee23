const encoder = new TextEncoder();

/**
 * Collects text as UTF-8 in one growing buffer. Encoding row by row is about twice as fast as joining
 * 100k row strings and encoding the result, and never holds the text twice.
 *
 * @example
 * const sink = new Utf8Sink();
 * sink.write("a,b\n");
 * sink.bytes(); // Uint8Array [97, 44, 98, 10]
 */
export class Utf8Sink {
  private buffer: Uint8Array;
  private length = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = new Uint8Array(initialBytes);
  }

  /** Appends `text` and returns how many bytes it took. */
  write(text: string): number {
    // A UTF-16 code unit never needs more than 3 UTF-8 bytes.
    const needed = this.length + text.length * 3;
    if (needed > this.buffer.length) {
      // Grow by half, not double: a 100k-row file is tens of MB in an isolate of 128 MB.
      const grown = new Uint8Array(Math.max(needed, Math.ceil(this.buffer.length * 1.5)));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    const { written } = encoder.encodeInto(text, this.buffer.subarray(this.length));
    this.length += written;
    return written;
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}
