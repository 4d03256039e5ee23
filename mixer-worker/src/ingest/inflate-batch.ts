import { envelopeContents } from "../../../shared/telemetry/batch-envelope.ts";

/** A message's batch bytes, or why it has none. */
export type OpenedBatch = { ok: true; data: Uint8Array } | { ok: false; reason: string };

/**
 * Opens the messages of one consumer (shared/telemetry/batch-envelope.ts): a plain batch is itself, a
 * deflated one is inflated with the runtime's DecompressionStream into a buffer kept from message to message
 * (in workerd a fresh buffer of a megabyte costs about 3 ms). Inflating stops, and the message is refused,
 * as soon as it passes `maxBytes` (`mixer.max_payload_size`, the bound on a plain batch): a small message
 * cannot make the isolate inflate gigabytes.
 *
 * The bytes it gives are valid until the next `open`: decode them before opening another.
 *
 * @example
 * const opened = await inflater.open(msg.data, config.mixer.max_payload_size);
 * if (!opened.ok) return deadLetter(msg.subject, opened.reason, msg.data);
 * const rows = decodeBatchRows(opened.data, limits, format, arena);
 */
export class BatchInflater {
  #buffer = new Uint8Array(64 * 1024);

  async open(data: Uint8Array, maxBytes: number): Promise<OpenedBatch> {
    const deflated = envelopeContents(data);
    if (!deflated) return { ok: true, data };
    const inflate = new DecompressionStream("deflate-raw");
    const writer = inflate.writable.getWriter();
    // Errors surface on the reading side; these settle with them.
    writer.write(deflated as Uint8Array<ArrayBuffer>).catch(() => undefined);
    writer.close().catch(() => undefined);
    const reader = inflate.readable.getReader();
    let length = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (length + value.length > maxBytes) {
          await reader.cancel().catch(() => undefined);
          return {
            ok: false,
            reason: `the deflated batch inflates past mixer.max_payload_size (${maxBytes} bytes)`,
          };
        }
        this.#room(length + value.length, maxBytes);
        this.#buffer.set(value, length);
        length += value.length;
      }
    } catch (error) {
      return { ok: false, reason: `cannot inflate the deflated batch: ${(error as Error).message}` };
    }
    return { ok: true, data: this.#buffer.subarray(0, length) };
  }

  /** Grows the buffer to hold `bytes` (doubling, up to `maxBytes`), keeping what it holds. */
  #room(bytes: number, maxBytes: number): void {
    if (bytes <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.min(maxBytes, Math.max(bytes, 2 * this.#buffer.length)));
    grown.set(this.#buffer);
    this.#buffer = grown;
  }
}
