import { consoleLine } from "../self/console-line.ts";
import { BoundedQueue } from "./bounded-queue.ts";
import { KeyedRateLimiter, type TokenBucketLimits } from "./rate-limiter.ts";

/** Why a message was dropped on arrival instead of queued. */
export type ShedReason = "queue_full" | "rate_limited" | "oversize";

/** The bounds of one lane; see control-limits.ts for the values and why. */
export interface ControlLaneLimits {
  /** Messages waiting at most. */
  capacity: number;
  /** Bytes waiting at most (payload, subject and reply subject). */
  queueBytes: number;
  /** A larger message is shed on arrival. */
  maxMessageBytes: number;
  /** Messages handled at once: each holds D1 queries. */
  concurrency: number;
  /** Messages its source lets come at once before it asks again (see `whenReady`); at most half `capacity`. */
  grant: number;
  /** Per sender (see `keyOf`). */
  rate: TokenBucketLimits;
  /** Senders with a bucket at most. */
  rateKeys: number;
}

/** A message as the lane keeps it: its own copy of what it needs, nothing of the connection's buffers. */
export interface ControlMessage {
  subject: string;
  /** Where the answer goes; none when the sender wants none. */
  reply?: string | undefined;
  data: Uint8Array;
}

/** What a lane took in, did and shed, since it started. */
export interface ControlLaneStats {
  received: number;
  /** Handled to the end (answered, recorded, or refused by the handler), failures included. */
  processed: number;
  /** Of those processed, how many the handler failed on (a D1 error, …); each is logged. */
  failed: number;
  in_flight: number;
  queue_depth: number;
  shed: Record<ShedReason, number>;
  /** Whether its source waits now for the queue to drain to half (see {@link ControlLane.whenReady}). */
  paused: boolean;
  /** How many times the source had to wait. */
  pauses: number;
}

/**
 * The lane's log comes in windows of this length: a flood must not become a flood of log lines. In a window
 * a lane writes its handlers' first {@link WARNINGS_PER_WINDOW} warnings, then at its end one line with what
 * it shed, how often it paused and how many warnings it left out.
 */
const LOG_WINDOW_MS = 10_000;
const WARNINGS_PER_WINDOW = 20;

/** What a queued message holds: the lane's byte budget counts this. */
const sizeOf = (message: ControlMessage) =>
  message.data.byteLength + message.subject.length + (message.reply?.length ?? 0);

/**
 * A handler yields to the event loop after each message. One that fails early (garbage, a bad signature) never
 * waits for I/O, so a queue of such messages would otherwise run as one long chain of microtasks and keep out
 * the socket, timers and other requests (/health, through the bridge's `status()`). Measured under a flood:
 * yielding after every 16th message instead let a /health request wait 0.5–1 s, after each one 0.2–0.45 s.
 */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * One kind of control-plane message between the subscription and its handler: messages are taken
 * synchronously on arrival (so the connection is always read at the pace nats-server writes, and never cut
 * off as a slow consumer) into a bounded queue, or shed there (too large, sender over its rate, queue full),
 * and worked by a fixed number of handlers that yield between messages. Memory is bounded by the limits,
 * whatever arrives.
 *
 * @example
 * const lane = new ControlLane("heartbeat", HEARTBEAT_LANE, { keyOf: (m) => m.subject, handle });
 * nc.subscribe(HEARTBEAT_FILTER, { callback: (_, msg) => lane.offer(msg) });
 */
export class ControlLane {
  readonly #queue: BoundedQueue<ControlMessage>;
  readonly #limiter: KeyedRateLimiter;
  #queuedBytes = 0;
  #workers = 0;
  /** What the paused source asked to be called with once the queue has drained to half. */
  #ready: (() => void) | undefined;
  /** The current log window: counts when it started, and its warnings; none while all is quiet. */
  #window: { shed: Record<ShedReason, number>; pauses: number; warned: number; unlogged: number } | undefined;
  readonly #stats: ControlLaneStats = {
    received: 0,
    processed: 0,
    failed: 0,
    in_flight: 0,
    queue_depth: 0,
    shed: { queue_full: 0, rate_limited: 0, oversize: 0 },
    paused: false,
    pauses: 0,
  };

  constructor(
    readonly name: string,
    readonly limits: ControlLaneLimits,
    private readonly work: {
      /** The sender a message counts against for the rate limit; called only when the message could queue. */
      keyOf: (message: ControlMessage) => string;
      /** Handles one message, warning through `warn` (rationed per window); a throw is counted as failed and logged. */
      handle: (message: ControlMessage, warn: (line: string) => void) => Promise<void>;
      /** Called when the queue fills: the source should stop sending, and ask {@link whenReady} when to go on. */
      pause?: () => void;
    },
  ) {
    if (!(limits.grant >= 1 && limits.grant <= limits.capacity / 2)) {
      // A larger grant could overfill a half-full queue before its source is asked again.
      throw new RangeError(`lane ${name}: grant ${limits.grant} must be between 1 and half its capacity`);
    }
    this.#queue = new BoundedQueue(limits.capacity);
    this.#limiter = new KeyedRateLimiter(limits.rate, limits.rateKeys);
  }

  /**
   * Queues a copy of `message` for a handler, or sheds it and says why. Synchronous and cheap: call it from
   * the subscription's callback. In a flood almost every message is shed, so a shed one costs only a length
   * check: its subject and reply (decoded on first read from a nats.js message) are not read.
   */
  offer(message: ControlMessage, now?: number): ShedReason | undefined {
    this.#stats.received++;
    const { data } = message;
    if (data.byteLength > this.limits.maxMessageBytes) return this.#shed("oversize");
    if (!this.#hasRoom(data.byteLength)) return this.#full();
    const queued: ControlMessage = { subject: message.subject, reply: message.reply, data };
    const bytes = sizeOf(queued);
    if (!this.#hasRoom(bytes)) return this.#full();
    if (!this.#limiter.take(this.work.keyOf(queued), now ?? Date.now())) return this.#shed("rate_limited");
    // The payload is a view into the connection's read buffer: keeping it would keep that whole buffer.
    queued.data = data.slice();
    this.#queue.push(queued);
    this.#queuedBytes += bytes;
    if (this.#workers < this.limits.concurrency) void this.#drain();
    return undefined;
  }

  #hasRoom(bytes: number): boolean {
    return this.#queue.length < this.limits.capacity && this.#queuedBytes + bytes <= this.limits.queueBytes;
  }

  /** Counters only: cheap enough for every `/health`. */
  stats(): ControlLaneStats {
    return {
      ...this.#stats,
      queue_depth: this.#queue.length,
      shed: { ...this.#stats.shed },
    };
  }

  /**
   * Calls `then` once the queue is at most half full: at once when it is, else (a pause) when the handlers
   * have brought it there. A source asks before it lets more messages come.
   */
  whenReady(then: () => void): void {
    if (!this.#stats.paused && this.#queue.length <= this.limits.capacity / 2) {
      then();
      return;
    }
    this.#pauseSource();
    this.#ready = then;
  }

  #full(): ShedReason {
    const reason = this.#shed("queue_full");
    if (!this.#stats.paused && this.work.pause) {
      this.#pauseSource();
      this.work.pause();
    }
    return reason;
  }

  #pauseSource(): void {
    if (this.#stats.paused) return;
    this.#stats.paused = true;
    this.#stats.pauses++;
  }

  #shed(reason: ShedReason): ShedReason {
    this.#logWindow();
    this.#stats.shed[reason]++;
    return reason;
  }

  readonly #warn = (line: string, level: "warn" | "error" = "warn"): void => {
    const window = this.#logWindow();
    if (window.warned++ < WARNINGS_PER_WINDOW) consoleLine(level, line);
    else window.unlogged++;
  };

  /** The log window under way, or a new one. */
  #logWindow() {
    if (!this.#window) {
      this.#window = { shed: { ...this.#stats.shed }, pauses: this.#stats.pauses, warned: 0, unlogged: 0 };
      setTimeout(() => this.#closeLogWindow(), LOG_WINDOW_MS);
    }
    return this.#window;
  }

  #closeLogWindow(): void {
    const since = this.#window;
    this.#window = undefined;
    if (!since) return;
    const { shed, pauses } = this.#stats;
    const shedNow = shed.queue_full + shed.rate_limited + shed.oversize;
    const shedThen = since.shed.queue_full + since.shed.rate_limited + since.shed.oversize;
    if (shedNow === shedThen && since.unlogged === 0) return;
    consoleLine(
      "warn",
      `control: ${this.name} in the last ${LOG_WINDOW_MS / 1000} s: shed ${shed.queue_full - since.shed.queue_full} ` +
        `(queue full), ${shed.rate_limited - since.shed.rate_limited} (rate limited), ` +
        `${shed.oversize - since.shed.oversize} (oversize); paused ${pauses - since.pauses} times; ` +
        `${since.unlogged} more warnings not logged`,
    );
  }

  /** One handler: works the queue until it is empty. */
  async #drain(): Promise<void> {
    this.#workers++;
    try {
      for (let message = this.#queue.shift(); message; message = this.#queue.shift()) {
        this.#queuedBytes -= sizeOf(message);
        if (this.#stats.paused && this.#queue.length <= this.limits.capacity / 2) {
          this.#stats.paused = false;
          const ready = this.#ready;
          this.#ready = undefined;
          try {
            ready?.();
          } catch (error) {
            this.#warn(
              `control: ${this.name}: resuming its source failed: ${(error as Error).message}`,
              "error",
            );
          }
        }
        this.#stats.in_flight++;
        try {
          await this.work.handle(message, this.#warn);
        } catch (error) {
          this.#stats.failed++;
          this.#warn(
            `control: ${this.name} on ${message.subject} failed: ${(error as Error).stack ?? error}`,
            "error",
          );
        } finally {
          this.#stats.in_flight--;
          this.#stats.processed++;
        }
        await yieldToEventLoop();
      }
    } finally {
      this.#workers--;
    }
  }
}
