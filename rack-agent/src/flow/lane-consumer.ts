import { setTimeout as sleep } from "node:timers/promises";
import type { Consumer, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { decodeFluxMsg } from "../../../shared/fluxmsg/codec.ts";
import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import type { ScenarioPart } from "../../../shared/scenario/index.ts";
import type { Journal } from "../journal/journal.ts";
import { publishDeadLetter } from "./dead-letters.ts";
import { type ReadEntry, readLanePayload } from "./lane-frame.ts";
import type { LaneStats } from "./lane-stats.ts";
import { RecentIds } from "./recent-ids.ts";

/** How long one pull stays open: the longest a stop waits for the pull under way. */
const PULL_EXPIRES_MS = 1_000;

/** A guaranteed input of a part: its lane subject, its durable, the gear port it feeds. */
export type LaneInput = ScenarioPart["consume"][number];

/** Delivers a lane's message to its gear; resolves once the gear is done with it. */
export type LaneHandler = (gear: string, port: string, msg: FluxMsg) => Promise<void>;

export interface LaneConsumerSettings {
  js: JetStreamClient;
  stream: string;
  rackName: string;
  /** Deliveries before a failing message is dead-lettered. */
  maxDeliveries: number;
  /** Pause before the first redelivery of a failed message; doubles with each further one. */
  nakDelayMs: number;
  /** Frames asked for per pull at most. */
  batch: number;
  /** Messages in the gear at once at most (frames hold many): pulling waits while this many are in hand. */
  maxInHand: number;
  /** Pause after a pull failed (bus down) before the next. */
  retryMs: number;
  /** This lane's counters. */
  stats: LaneStats;
  handler: () => LaneHandler;
  /** The rack's journal: each dead letter that is a fluxMsg is journaled (status error, with the reason). */
  journal?: Pick<Journal, "deadLetter"> | undefined;
  warn(message: string): void;
}

/** What handling one message came to: undefined once it is finished, else why it failed. */
type Outcome = Error | undefined;

/** Frames with a message handed back whose finished messages are remembered (the oldest are forgotten). */
const PROGRESS_FRAMES = 4_096;

/**
 * Pulls one durable consumer and hands each message of each frame (lane-frame.ts) to its gear, many at
 * once. A frame is acked once every message in it is finished. When some failed, the frame is nak'ed with a
 * growing delay and comes back whole; the messages this process already finished are skipped then (by the
 * frame's stream sequence, and by lane message id for copies in other frames), so only the failed ones run
 * again. On the frame's `maxDeliveries`-th delivery each message still failing is dead-lettered alone, with
 * its own reason, and the frame is terminated; a frame that is not a lane payload at all is dead-lettered
 * whole, a message in it that is not a fluxMsg alone. {@link stop} stops pulling and waits for every message
 * in hand.
 *
 * Why redeliver the frame rather than republish its failed messages and ack it: JetStream keeps counting
 * the frame's deliveries and applies the nak delay, so "failed N times, then dead letter" and the backoff
 * stay the server's, and a crash at any point leaves the frame unacked (redelivered, never lost). The cost:
 * a frame redelivered to another rack of the alias, or after this process restarted, reruns the messages
 * that had succeeded (at least once, as a lost ack always did; their ids make it visible).
 */
export class LaneConsumer {
  /** Frames in hand now, with when they arrived (see {@link keepAlive}). */
  readonly #inFlight = new Map<JsMsg, number>();
  readonly #settled = new Set<Promise<void>>();
  /** Lane ids of messages finished here a moment ago: a copy in another frame is skipped. */
  readonly #done = new RecentIds(65_536, 120_000);
  /** Messages being handled now, by lane id: a copy delivered meanwhile waits for the same outcome. */
  readonly #handling = new Map<string, Promise<Outcome>>();
  /** For frames handed back with failures: the indexes of their messages already finished, by stream sequence. */
  readonly #progress = new Map<number, Set<number>>();
  #inHand = 0;
  #room: (() => void) | undefined;
  /** Messages per frame, a running average: how many frames one pull asks for. */
  #perFrame = 1;
  #stopping = false;
  #loop: Promise<void> = Promise.resolve();

  constructor(
    readonly input: LaneInput,
    private readonly settings: LaneConsumerSettings,
  ) {}

  async start(): Promise<void> {
    const consumer = await this.settings.js.consumers.get(this.settings.stream, this.input.durable);
    this.#loop = this.#pull(consumer);
  }

  /**
   * Stops pulling: the pull under way ends within {@link PULL_EXPIRES_MS}, every message it brings still goes
   * to the gear, and this resolves once each frame is acked or handed back. (Unsubscribing at once instead
   * would strand what the server is sending until `ack_wait` ran out.)
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#loop;
    while (this.#settled.size > 0) await Promise.all(this.#settled);
  }

  /** Tells JetStream that frames held longer than `olderThanMs` are still being worked on. */
  keepAlive(olderThanMs: number, now = performance.now()): void {
    for (const [m, since] of this.#inFlight) if (now - since > olderThanMs) m.working();
  }

  /** Pull after pull (frames for about `maxInHand` messages, or {@link PULL_EXPIRES_MS}); gears work alongside. */
  async #pull(consumer: Consumer): Promise<void> {
    const { batch, maxInHand } = this.settings;
    let failing = false;
    while (!this.#stopping) {
      if (this.#inHand >= maxInHand) {
        await new Promise<void>((resolve) => {
          this.#room = resolve;
        });
        continue;
      }
      try {
        const frames = Math.max(1, Math.min(batch, Math.ceil((maxInHand - this.#inHand) / this.#perFrame)));
        const messages = await consumer.fetch({ max_messages: frames, expires: PULL_EXPIRES_MS });
        for await (const m of messages) this.#take(m);
        failing = false;
      } catch (error) {
        if (this.#stopping) return;
        if (!failing)
          this.settings.warn(
            `lane ${this.input.subject}: pulling failed (${(error as Error).message}); trying again`,
          );
        // Missed heartbeats after a pull that worked: this process or the server stalled for a second (a busy
        // machine), the bus is not known to be down; pull again at once, and wait only if that fails too.
        const stalled = !failing && (error as Error).message.includes("heartbeats missed");
        failing = true;
        if (!stalled) await sleep(this.settings.retryMs);
      }
    }
  }

  #take(m: JsMsg): void {
    this.#inFlight.set(m, performance.now());
    const done = this.#handle(m).finally(() => {
      this.#inFlight.delete(m);
      this.#settled.delete(done);
    });
    this.#settled.add(done);
  }

  async #handle(m: JsMsg): Promise<void> {
    let entries: ReadEntry[];
    try {
      entries = readLanePayload(m.data);
    } catch (error) {
      this.settings.stats.delivered++;
      // Retrying cannot make bytes decode.
      const reason = `not a fluxMsg on ${m.subject}: ${(error as Error).message}`;
      if (await this.#deadLetter(m.data, reason, m.info.streamSequence)) this.#term(m, reason);
      else this.#nak(m, m.info.deliveryCount, 1);
      return;
    }
    this.#perFrame += (entries.length - this.#perFrame) / 8;
    this.#inHand += entries.length;
    try {
      await this.#frame(m, entries);
    } finally {
      this.#inHand -= entries.length;
      if (this.#room && this.#inHand < this.settings.maxInHand) {
        this.#room();
        this.#room = undefined;
      }
    }
  }

  async #frame(m: JsMsg, entries: ReadEntry[]): Promise<void> {
    const { gear, port } = this.input.to;
    const { deliveryCount, streamSequence } = m.info;
    const finished = this.#progress.get(streamSequence);
    const outcomes = await Promise.all(
      entries.map((entry, i) => (finished?.has(i) ? this.#skip() : this.#one(entry, deliveryCount > 1))),
    );
    const failed = outcomes.flatMap((error, i) => (error ? [i] : []));
    if (failed.length === 0) {
      this.#progress.delete(streamSequence);
      m.ack();
      return;
    }
    const progress = finished ?? new Set<number>();
    outcomes.forEach((error, i) => {
      if (!error) progress.add(i);
    });
    const { maxDeliveries } = this.settings;
    const reasons = new Map(
      failed.map((i) => [
        i,
        `gear ${gear} failed on port ${port} (delivery ${deliveryCount} of ${maxDeliveries}): ${(outcomes[i] as Error).message}`,
      ]),
    );
    if (deliveryCount >= maxDeliveries) {
      for (const [i, reason] of reasons) {
        if (await this.#deadLetter((entries[i] as ReadEntry).data, reason, streamSequence)) {
          progress.add(i);
          reasons.delete(i);
        }
      }
      if (reasons.size === 0) {
        this.#progress.delete(streamSequence);
        this.#term(m, `${failed.length} of ${entries.length} dead-lettered`);
        return;
      }
    }
    this.#remember(streamSequence, progress);
    this.#nak(m, deliveryCount, reasons.size);
  }

  /**
   * One message to its gear: its failure, or undefined once it is finished (or was before). A copy of a
   * message being handled now (from another frame) shares its outcome instead of running twice.
   */
  #one(entry: ReadEntry, redelivery: boolean): Outcome | Promise<Outcome> {
    const { stats } = this.settings;
    const { gear, port } = this.input.to;
    const { id } = entry;
    stats.delivered++;
    const running = this.#handling.get(id);
    if (running || this.#done.has(id)) {
      stats.skipped++;
      return running;
    }
    if (redelivery) stats.redelivered++;
    let msg: FluxMsg;
    try {
      msg = entry.msg ?? decodeFluxMsg(entry.data);
    } catch (error) {
      const reason = `not a fluxMsg on ${this.input.subject}: ${(error as Error).message}`;
      return this.#deadLetter(entry.data, reason, undefined).then((stored) =>
        stored ? undefined : new Error("its dead letter was not stored"),
      );
    }
    const handled = this.settings
      .handler()(gear, port, msg)
      .then(
        () => {
          stats.acked++;
          this.#done.add(id);
          return undefined;
        },
        (error: Error) => error,
      )
      .finally(() => this.#handling.delete(id));
    this.#handling.set(id, handled);
    return handled;
  }

  #skip(): undefined {
    this.settings.stats.delivered++;
    this.settings.stats.skipped++;
    return undefined;
  }

  #remember(streamSequence: number, progress: Set<number>): void {
    this.#progress.delete(streamSequence);
    this.#progress.set(streamSequence, progress);
    for (const oldest of this.#progress.keys()) {
      if (this.#progress.size <= PROGRESS_FRAMES) break;
      this.#progress.delete(oldest);
    }
  }

  /** Stores one dead letter; false (and a warning) when it could not be stored. */
  async #deadLetter(data: Uint8Array, reason: string, streamSequence: number | undefined): Promise<boolean> {
    const { js, rackName, stats, warn } = this.settings;
    const subject = this.input.subject;
    try {
      await publishDeadLetter(js, rackName, data, this.input.to.gear, reason);
    } catch (error) {
      warn(`lane ${subject}: dead letter not stored (${(error as Error).message}); it will be tried again`);
      return false;
    }
    stats.deadLettered++;
    warn(
      `lane ${subject}: dead-lettered a message${streamSequence ? ` of ${streamSequence}` : ""}: ${reason}`,
    );
    this.#journalDeadLetter(data, reason);
    return true;
  }

  /** Journals a dead letter that is a fluxMsg (bytes that are not one have no flux_id to file it under). */
  #journalDeadLetter(data: Uint8Array, reason: string): void {
    const { journal, warn } = this.settings;
    if (!journal) return;
    let msg: FluxMsg;
    try {
      msg = decodeFluxMsg(data);
    } catch {
      return;
    }
    journal.deadLetter(msg, this.input.to.gear, reason).catch((error: Error) => {
      warn(`lane ${this.input.subject}: dead letter ${msg.id} not journaled: ${error.message}`);
    });
  }

  #term(m: JsMsg, reason: string): void {
    m.term(reason.slice(0, 200));
  }

  #nak(m: JsMsg, deliveryCount: number, failed: number): void {
    m.nak(this.settings.nakDelayMs * 2 ** Math.max(0, deliveryCount - 1));
    this.settings.stats.naked += failed;
  }
}
