import { setTimeout as sleep } from "node:timers/promises";
import type { Consumer, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { decodeFluxMsg } from "../../../shared/fluxmsg/codec.ts";
import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import type { ScenarioPart } from "../../../shared/scenario/index.ts";
import { publishDeadLetter } from "./dead-letters.ts";

/** How long one pull stays open: the longest a stop waits for the pull under way. */
const PULL_EXPIRES_MS = 1_000;

/** A guaranteed input of a part: its lane subject, its durable, the gear port it feeds. */
export type LaneInput = ScenarioPart["consume"][number];

/** Delivers a lane's message to its gear; resolves once the gear is done with it. */
export type LaneHandler = (gear: string, port: string, msg: FluxMsg) => Promise<void>;

/** Counters of what the lanes did, so redeliveries and duplicates are visible. */
export interface LaneStats {
  /** Messages JetStream stored on a lane (duplicates included). */
  published: number;
  /** Publishes JetStream recognised as a repeat of a stored message id, and dropped. */
  duplicates: number;
  /** Publish attempts that failed and were tried again (bus down, no answer). */
  publishRetries: number;
  delivered: number;
  /** Deliveries of a message delivered before (its gear failed, or its ack never arrived). */
  redelivered: number;
  acked: number;
  /** Failed deliveries handed back for a later try. */
  naked: number;
  /** Messages that failed `maxDeliveries` times or were not fluxMsgs, now on `flux.dlq.msg.<rack>`. */
  deadLettered: number;
}

export interface LaneConsumerSettings {
  js: JetStreamClient;
  stream: string;
  rackName: string;
  /** Deliveries before a failing message is dead-lettered. */
  maxDeliveries: number;
  /** Pause before the first redelivery of a failed message; doubles with each further one. */
  nakDelayMs: number;
  /** Messages asked for per pull. */
  batch: number;
  /** Pause after a pull failed (bus down) before the next. */
  retryMs: number;
  stats: LaneStats;
  handler: () => LaneHandler;
  warn(message: string): void;
}

/**
 * Pulls one durable consumer and hands each message to its gear, many at once: acked once the gear is
 * done, nak'ed with a growing delay when it failed, dead-lettered (then terminated) on its last allowed
 * delivery or when it is not a fluxMsg. {@link stop} stops pulling and waits for every message in hand.
 */
export class LaneConsumer {
  /** Messages in a gear now, with when they got there (see {@link keepAlive}). */
  readonly #inFlight = new Map<JsMsg, number>();
  readonly #settled = new Set<Promise<void>>();
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
   * to the gear, and this resolves once each is acked or handed back. (Unsubscribing at once instead would
   * strand what the server is sending until `ack_wait` ran out.)
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#loop;
    while (this.#settled.size > 0) await Promise.all(this.#settled);
  }

  /** Tells JetStream that messages held longer than `olderThanMs` are still being worked on. */
  keepAlive(olderThanMs: number, now = performance.now()): void {
    for (const [m, since] of this.#inFlight) if (now - since > olderThanMs) m.working();
  }

  /** Pull after pull (each `batch` messages or {@link PULL_EXPIRES_MS}); the gear's work runs alongside. */
  async #pull(consumer: Consumer): Promise<void> {
    let failing = false;
    while (!this.#stopping) {
      try {
        const messages = await consumer.fetch({
          max_messages: this.settings.batch,
          expires: PULL_EXPIRES_MS,
        });
        for await (const m of messages) this.#take(m);
        failing = false;
      } catch (error) {
        if (this.#stopping) return;
        if (!failing)
          this.settings.warn(
            `lane ${this.input.subject}: pulling failed (${(error as Error).message}); trying again`,
          );
        failing = true;
        await sleep(this.settings.retryMs);
      }
    }
  }

  #take(m: JsMsg): void {
    const { stats } = this.settings;
    stats.delivered++;
    if (m.info.deliveryCount > 1) stats.redelivered++;
    this.#inFlight.set(m, performance.now());
    const done = this.#handle(m).finally(() => {
      this.#inFlight.delete(m);
      this.#settled.delete(done);
    });
    this.#settled.add(done);
  }

  async #handle(m: JsMsg): Promise<void> {
    const { gear, port } = this.input.to;
    let msg: FluxMsg;
    try {
      msg = decodeFluxMsg(m.data);
    } catch (error) {
      // Retrying cannot make bytes decode.
      return this.#deadLetter(m, `not a fluxMsg on ${m.subject}: ${(error as Error).message}`);
    }
    try {
      await this.settings.handler()(gear, port, msg);
      m.ack();
      this.settings.stats.acked++;
    } catch (error) {
      const { deliveryCount } = m.info;
      const reason = `gear ${gear} failed on port ${port} (delivery ${deliveryCount} of ${this.settings.maxDeliveries}): ${(error as Error).message}`;
      if (deliveryCount >= this.settings.maxDeliveries) return this.#deadLetter(m, reason);
      this.#nak(m, deliveryCount);
    }
  }

  async #deadLetter(m: JsMsg, reason: string): Promise<void> {
    const { js, rackName, stats, warn } = this.settings;
    try {
      await publishDeadLetter(js, rackName, m.data, this.input.to.gear, reason);
    } catch (error) {
      warn(`lane ${m.subject}: dead letter not stored (${(error as Error).message}); it will be tried again`);
      return this.#nak(m, m.info.deliveryCount);
    }
    m.term(reason.slice(0, 200));
    stats.deadLettered++;
    warn(`lane ${m.subject}: dead-lettered message ${m.info.streamSequence}: ${reason}`);
  }

  #nak(m: JsMsg, deliveryCount: number): void {
    m.nak(this.settings.nakDelayMs * 2 ** Math.max(0, deliveryCount - 1));
    this.settings.stats.naked++;
  }
}
