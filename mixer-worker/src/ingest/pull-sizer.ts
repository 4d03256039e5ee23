/** What one pull may bring into the isolate, for its 128 MB: the messages of a pull are held until flushed. */
export const MAX_PULL_BYTES = 8 * 1024 * 1024;

/** Per message, how much of the largest size seen is forgotten: it halves over about 140 smaller messages. */
const DECAY = 0.995;

/**
 * Sizes pulls so that one stays near {@link MAX_PULL_BYTES}. JetStream takes a message count or a byte budget, not
 * both (and nats.js ends a fetch whose budget ran out with an error), so the count comes from the messages seen:
 * from the largest one lately, not the average, since a fleet's batches mix a few large ones among many small
 * ones; and from the largest the bus accepts before any was seen. A pull sized from an average of 64 KiB once
 * fetched 128 batches of 692 KB (88 MB) at a bridge's start, while racks were busy.
 *
 * @example
 * const sizer = new PullSizer(config.mixer.max_payload_size);
 * await consumer.fetch({ max_messages: sizer.count(room), expires });
 * sizer.saw(msg.data.byteLength);
 */
export class PullSizer {
  #largest: number;
  #seen = false;

  constructor(maxMessageBytes: number) {
    this.#largest = maxMessageBytes;
  }

  /** Records one message's size; the first one replaces the bus's largest (small batches get full pulls at once). */
  saw(bytes: number): void {
    this.#largest = this.#seen ? Math.max(bytes, this.#largest * DECAY) : bytes;
    this.#seen = true;
  }

  /** How many messages the next pull may ask for, at most `room` and at least one. */
  count(room: number): number {
    return Math.max(1, Math.min(room, Math.floor(MAX_PULL_BYTES / Math.max(1, this.#largest))));
  }
}
