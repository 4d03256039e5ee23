import { setImmediate } from "node:timers";
import { setTimeout as sleep } from "node:timers/promises";
import { JetStreamApiError, type JetStreamClient } from "@nats-io/jetstream";
import { errors } from "@nats-io/nats-core";
import type { AckWindow } from "../snake/ack-window.ts";
import { encodeLaneFrame, type FrameEntry, frameMsgId, frameSize } from "./lane-frame.ts";
import type { LaneStats } from "./lane-stats.ts";
import { RecentIds } from "./recent-ids.ts";

/** Headers counted against the server's `max_payload`: `NATS/1.0`, `Nats-Msg-Id: <frame id>`, CRLFs. */
export const FRAME_HEADER_ALLOWANCE = 160;

export interface LanePublisherSettings {
  js: JetStreamClient;
  /** Every lane's publishes awaiting their ack, frames counted (bounds memory while the bus is slow). */
  window: AckWindow;
  /** Messages in one frame at most. */
  frameMessages: number;
  /** Bytes of one frame at most, headers included (the least of `rack.max_payload_size` and the server's). */
  frameBytes(): number;
  /** Frames of one lane awaiting their ack; further messages gather into the next frame meanwhile. */
  framesInFlight: number;
  /** Pause between attempts of a frame whose publish failed. */
  retryMs: number;
  /** Aborted on close: a failing publish gives up instead of trying again. */
  closing: AbortSignal;
  stats(subject: string): LaneStats;
  warn(message: string): void;
}

/** A message waiting for its frame to be stored. */
interface Waiting extends FrameEntry {
  resolve(): void;
  reject(error: Error): void;
}

/** One lane's queue, frames in flight and the ids it stored lately. */
interface Lane {
  subject: string;
  queue: Waiting[];
  inFlight: number;
  scheduled: boolean;
  stats: LaneStats;
  /** Lane message ids stored a moment ago. */
  stored: RecentIds;
  /** The same, for messages queued or in a frame not yet acked: a second copy waits for the first. */
  pending: Map<string, Promise<void>>;
}

/** Errors that say the same publish can never succeed: retrying would only hold the gear forever. */
function permanent(error: unknown): boolean {
  return (
    error instanceof errors.InvalidArgumentError ||
    error instanceof errors.InvalidSubjectError ||
    error instanceof errors.PermissionViolationError ||
    error instanceof errors.ClosedConnectionError ||
    error instanceof errors.DrainingConnectionError ||
    error instanceof JetStreamApiError
  );
}

/**
 * Publishes lane messages in frames (lane-frame.ts), each caller's promise resolving once JetStream stored the
 * frame holding its message.
 *
 * When a frame goes: at the end of the event-loop turn in which its first message was queued, if its lane
 * has fewer than `framesInFlight` frames awaiting their ack; otherwise as soon as one of them is acked. So a
 * message alone on an idle lane goes at once, in a frame of one, and under load messages gather while the
 * lane's frames are in flight: the frame size follows the load, with no timer adding latency when idle (a
 * fixed linger would cost every quiet message its full length and still under-fill frames at high rates).
 * A frame holds at most `frameMessages` messages and `frameBytes()` bytes (a message bigger than that goes
 * alone, and the server decides).
 *
 * Duplicates: JetStream deduplicates frames by their `Nats-Msg-Id` (a retried publish of the same frame),
 * not the messages in them, so the publisher itself drops a message whose lane id it stored on the same
 * lane lately (at least the last 32,768 ids and 1 minute, see {@link RecentIds}), or that is in a frame on
 * its way: the rerun of an upstream message that failed after emitting is not stored twice.
 */
export class LanePublisher {
  readonly #lanes = new Map<string, Lane>();
  #outage = false;

  constructor(private readonly settings: LanePublisherSettings) {}

  /** Queues one message's CBOR (`data`, lane message id `id`); resolves once its frame is stored. */
  publish(subject: string, id: string, data: Uint8Array): Promise<void> {
    const lane = this.#lane(subject);
    const pending = lane.pending.get(id);
    if (pending || lane.stored.has(id)) {
      lane.stats.duplicates++;
      return pending ?? Promise.resolve();
    }
    const stored = new Promise<void>((resolve, reject) => {
      lane.queue.push({
        id,
        data,
        resolve: () => {
          lane.pending.delete(id);
          lane.stored.add(id);
          resolve();
        },
        reject: (error) => {
          lane.pending.delete(id);
          reject(error);
        },
      });
    });
    lane.pending.set(id, stored);
    this.#schedule(lane);
    return stored;
  }

  #lane(subject: string): Lane {
    let lane = this.#lanes.get(subject);
    if (!lane) {
      lane = {
        subject,
        queue: [],
        inFlight: 0,
        scheduled: false,
        stats: this.settings.stats(subject),
        stored: new RecentIds(65_536, 120_000),
        pending: new Map(),
      };
      this.#lanes.set(subject, lane);
    }
    return lane;
  }

  /** Sends what is queued at the end of this turn, unless the lane's frames in flight are at the limit. */
  #schedule(lane: Lane): void {
    if (lane.scheduled || lane.inFlight >= this.settings.framesInFlight) return;
    lane.scheduled = true;
    setImmediate(() => {
      lane.scheduled = false;
      this.#pump(lane);
    });
  }

  #pump(lane: Lane): void {
    const { frameMessages, framesInFlight } = this.settings;
    const maxBytes = this.settings.frameBytes();
    while (lane.queue.length > 0 && lane.inFlight < framesInFlight) {
      const frame = lane.queue.splice(0, frameSize(lane.queue, frameMessages, maxBytes));
      lane.inFlight++;
      void this.#send(lane, frame).finally(() => {
        lane.inFlight--;
        if (lane.queue.length > 0) this.#schedule(lane);
      });
    }
  }

  /** Publishes one frame until it is stored (or can never be), then settles its messages. */
  async #send(lane: Lane, frame: Waiting[]): Promise<void> {
    const { js, window, retryMs, closing, warn } = this.settings;
    const { subject, stats } = lane;
    const data = encodeLaneFrame(frame);
    const msgID = frameMsgId(subject, frame);
    if (!window.tryAcquire(data.length)) await window.acquire(data.length);
    try {
      for (;;) {
        try {
          const ack = await js.publish(subject, data, { msgID });
          stats.published += frame.length;
          stats.frames++;
          if (ack.duplicate) stats.duplicates += frame.length;
          if (this.#outage) {
            this.#outage = false;
            warn(`guaranteed lanes: publishing again (${subject})`);
          }
          for (const waiting of frame) waiting.resolve();
          return;
        } catch (error) {
          if (permanent(error) || closing.aborted) {
            const what =
              frame.length === 1 ? (frame[0] as Waiting).id : `a frame of ${frame.length} messages`;
            const failure = new Error(
              `publishing ${what} to ${subject} failed: ${(error as Error).message}`,
              {
                cause: error,
              },
            );
            for (const waiting of frame) waiting.reject(failure);
            return;
          }
          stats.publishRetries++;
          if (!this.#outage) {
            this.#outage = true;
            warn(
              `guaranteed lanes: publishing to ${subject} failed (${(error as Error).message}); trying again every ${retryMs} ms`,
            );
          }
          await sleep(retryMs, undefined, { signal: closing }).catch(() => undefined);
        }
      }
    } finally {
      window.release(data.length);
    }
  }
}
