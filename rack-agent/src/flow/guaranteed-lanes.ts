import { setTimeout as sleep } from "node:timers/promises";
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { type NatsConnection, nanos } from "@nats-io/nats-core";
import { encodeFluxMsg } from "../../../shared/fluxmsg/codec.ts";
import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import { CounterDeltas } from "../../../shared/telemetry/counter-deltas.ts";
import type { Journal } from "../journal/journal.ts";
import { AckWindow } from "../snake/ack-window.ts";
import type { Telemetry } from "../telemetry/index.ts";
import type { GuaranteedLanes } from "./flow-runtime.ts";
import { LaneConsumer, type LaneHandler, type LaneInput } from "./lane-consumer.ts";
import { laneMsgId } from "./lane-msg-id.ts";
import { FRAME_HEADER_ALLOWANCE, LanePublisher } from "./lane-publisher.ts";
import { emptyLaneStats, type LaneStats, reportLaneStats, sumLaneStats } from "./lane-stats.ts";

export interface GuaranteedLanesOptions {
  nc: NatsConnection;
  /** `snake.domain` */
  domain: string;
  /** `snake.stream_name`: the business stream that captures `flux.msg.>`. */
  stream: string;
  /** Dead letters go to `flux.dlq.msg.<rackName>`. */
  rackName: string;
  /** `snake.convergence_delay`: the pause between creating or changing consumers and pulling from them. */
  convergenceDelayMs: number;
  /** `snake.reconnect_wait`: the pause between attempts of a publish that failed. */
  retryMs: number;
  warn(message: string): void;
  /** The rack's journal: messages dead-lettered after `maxDeliveries` are journaled with their reason. */
  journal?: Pick<Journal, "deadLetter"> | undefined;
  /** How long JetStream waits for an ack before redelivering; slow gears are kept alive with `working()`. */
  ackWaitMs?: number;
  /** Unacknowledged messages a durable may have out, across every rack of the alias. */
  maxAckPending?: number;
  /** Deliveries of a failing message before it is dead-lettered. */
  maxDeliveries?: number;
  /** Pause before the first redelivery of a failed message; doubles with each further one. */
  nakDelayMs?: number;
  /** Frames awaiting their ack at once, every lane together. */
  window?: number;
  /** `rack.max_payload_size`: no frame is bigger, headers included (nor than the server's `max_payload`). */
  maxPayloadSize?: number;
  /** Messages in one frame at most. */
  frameMessages?: number;
  /** Frames of one lane awaiting their ack at once; messages gather into the next frame meanwhile. */
  framesInFlight?: number;
  /** Messages of one guaranteed input in its gear at once at most. */
  maxInHand?: number;
}

const DEFAULTS = {
  ackWaitMs: 10_000,
  maxAckPending: 1_024,
  maxDeliveries: 5,
  nakDelayMs: 1_000,
  window: 256,
  maxPayloadSize: 1_048_576,
  frameMessages: 256,
  // Under load an ack takes as long as an event-loop turn of the busy process; 32 frames of 256 keep 10k msg/s
  // flowing even at 200 ms per ack (8 did not, on a loaded 2-core machine).
  framesInFlight: 32,
  maxInHand: 4_096,
};
/** Bytes awaiting acks: a bound on memory when the bus is slow, far above what the count allows normally. */
const WINDOW_BYTES = 64 * 2 ** 20;

/**
 * Guaranteed lanes on JetStream: at least once from an emitting gear to the receiving gear on any rack.
 *
 * Publishing ({@link LanePublisher}): messages emitted onto a lane are packed into frames (lane-frame.ts:
 * several fluxMsgs in one JetStream message, each with its lane message id {@link laneMsgId}; a frame of one is
 * the bare fluxMsg), with a `Nats-Msg-Id` derived from the messages' ids and many frames in flight at once
 * (an {@link AckWindow}); each caller's promise resolves only once JetStream stored the frame holding its
 * message. A message alone on an idle lane goes at once; under load, messages gather while the lane's frames
 * are in flight. While the bus is down a frame is tried again every `retryMs` until it is stored (the flow
 * waits: sources are held back, nothing is dropped); it rejects only when the lanes close first or the server
 * refuses it for good, and then each emitting gear's message fails as any failure does: dead-lettered on a
 * hot input, handed back for redelivery on a guaranteed one. So a message that came on a guaranteed lane is
 * acked only after everything its gear emitted onto lanes was stored.
 *
 * Consuming ({@link LaneConsumer}): one durable pull consumer per guaranteed input, shared by every rack of
 * the alias (JetStream spreads the frames); each message of a frame goes to the gear, the frame is acked
 * once all are finished, nak'ed with a growing delay when one failed (the finished ones are skipped when it
 * comes back), and each message still failing on the frame's `maxDeliveries`-th delivery is dead-lettered
 * alone to `flux.dlq.msg.<rack>`. A rack never deletes a durable (another rack of the alias may use it): each
 * durable has `inactive_threshold` = the stream's `max_age`, so JetStream removes one nobody pulled for that
 * long, when every message it acked has expired too.
 *
 * @example
 * const lanes = new JetStreamLanes({ nc, domain: "flux", stream: "flux-msg", rackName: "rack-core-01",
 *   convergenceDelayMs: 100, retryMs: 1_000, warn: console.warn });
 * await lanes.consume(part.consume, (gear, port, msg) => flow.handle(gear, port, msg));
 * await lanes.publish("flux.msg.core.authorizer.in", msg);
 * await lanes.close();
 */
export class JetStreamLanes implements GuaranteedLanes {
  readonly #o: GuaranteedLanesOptions & typeof DEFAULTS;
  readonly #js: JetStreamClient;
  readonly #publisher: LanePublisher;
  readonly #closing = new AbortController();
  readonly #consumers = new Map<string, LaneConsumer>();
  /** Each lane's counters, by subject, kept for the rack's life (running totals, reported as deltas). */
  readonly #stats = new Map<string, LaneStats>();
  /** What each lane's counters had reached at the last report (they are sent as deltas). */
  readonly #reported = new CounterDeltas();
  readonly #keepAlive: ReturnType<typeof setInterval>;
  #handler: LaneHandler = () => Promise.reject(new Error("no gear takes this lane yet"));
  #jsm: JetStreamManager | undefined;
  /** Changes of the consumed inputs run one at a time. */
  #changing: Promise<unknown> = Promise.resolve();

  constructor(options: GuaranteedLanesOptions) {
    this.#o = { ...DEFAULTS, ...options };
    this.#js = jetstream(options.nc, { domain: options.domain });
    const o = this.#o;
    this.#publisher = new LanePublisher({
      js: this.#js,
      window: new AckWindow(o.window, WINDOW_BYTES),
      frameMessages: o.frameMessages,
      frameBytes: () =>
        Math.min(o.maxPayloadSize, o.nc.info?.max_payload ?? o.maxPayloadSize) - FRAME_HEADER_ALLOWANCE,
      framesInFlight: o.framesInFlight,
      retryMs: o.retryMs,
      closing: this.#closing.signal,
      stats: (subject) => this.#laneStats(subject),
      warn: o.warn,
    });
    const every = Math.max(100, Math.floor(this.#o.ackWaitMs / 3));
    this.#keepAlive = setInterval(() => {
      for (const consumer of this.#consumers.values()) consumer.keepAlive(every);
    }, every);
    this.#keepAlive.unref();
  }

  /** Every lane's counters added up. */
  get stats(): LaneStats {
    return sumLaneStats(this.#stats.values());
  }

  /** Each lane's counters, by subject. */
  get lanes(): ReadonlyMap<string, LaneStats> {
    return this.#stats;
  }

  /** Sends each lane's counters as `fluxrig.lane.*` metrics labelled `lane`; call it every reporting interval. */
  reportMetrics(telemetry: Telemetry): void {
    reportLaneStats(telemetry, this.#stats, this.#reported);
  }

  /** Resolves once JetStream stored the frame holding the message (see the class notes for failures). */
  publish(subject: string, msg: FluxMsg): Promise<void> {
    return this.#publisher.publish(subject, laneMsgId(msg), encodeFluxMsg(msg));
  }

  /**
   * Consumes exactly `inputs` from now on, handing their messages to `handle`. Inputs that left are stopped
   * first (what they hold finishes and is acked); inputs kept go on pulling undisturbed; new ones get their
   * durable created or brought up to date, then, after `snake.convergence_delay`, pulled.
   *
   * @example await lanes.consume(part.consume, handle);
   */
  consume(inputs: LaneInput[], handle: LaneHandler): Promise<void> {
    const next = this.#changing.then(() => this.#consume(inputs, handle));
    this.#changing = next.catch(() => undefined);
    return next;
  }

  /** Stops every consumer (messages in hand finish) and gives up publishes still being retried. */
  async close(): Promise<void> {
    this.#closing.abort();
    clearInterval(this.#keepAlive);
    await this.consume([], this.#handler);
  }

  async #consume(inputs: LaneInput[], handle: LaneHandler): Promise<void> {
    this.#handler = handle;
    const wanted = new Map(inputs.map((input) => [input.durable, input]));
    const leaving = [...this.#consumers.values()].filter(
      (c) => wanted.get(c.input.durable)?.subject !== c.input.subject || !sameTarget(c.input, wanted),
    );
    for (const consumer of leaving) this.#consumers.delete(consumer.input.durable);
    await Promise.all(leaving.map((consumer) => consumer.stop()));
    // Acks are core publishes: make sure the server has them before anyone else takes over these durables.
    if (leaving.length > 0) await this.#o.nc.flush().catch(() => undefined);
    const coming = inputs.filter((input) => !this.#consumers.has(input.durable));
    if (coming.length === 0 || this.#closing.signal.aborted) return;
    // Without the bus the flow runs on and its lanes start when it is back (or the lanes close).
    let changed: boolean | undefined;
    while (changed === undefined) {
      changed = await this.#ensureDurables(coming).catch(async (error: Error) => {
        this.#o.warn(
          `guaranteed lanes: cannot set up ${coming.map((i) => i.durable).join(", ")}: ${error.message}; trying again`,
        );
        await sleep(this.#o.retryMs, undefined, { signal: this.#closing.signal }).catch(() => undefined);
        return undefined;
      });
      if (this.#closing.signal.aborted) return;
    }
    // On a clustered JetStream a consumer just added or changed is assigned through the meta leader; a pull
    // sent at once can reach a server that does not have it yet, or still has the old config.
    if (changed) await sleep(this.#o.convergenceDelayMs);
    for (const input of coming) {
      const consumer = new LaneConsumer(input, {
        js: this.#js,
        stream: this.#o.stream,
        rackName: this.#o.rackName,
        maxDeliveries: this.#o.maxDeliveries,
        nakDelayMs: this.#o.nakDelayMs,
        batch: Math.min(256, this.#o.maxAckPending),
        maxInHand: this.#o.maxInHand,
        retryMs: this.#o.retryMs,
        stats: this.#laneStats(input.subject),
        handler: () => this.#handler,
        journal: this.#o.journal,
        warn: this.#o.warn,
      });
      await consumer.start();
      this.#consumers.set(input.durable, consumer);
    }
  }

  #laneStats(subject: string): LaneStats {
    let stats = this.#stats.get(subject);
    if (!stats) {
      stats = emptyLaneStats();
      this.#stats.set(subject, stats);
    }
    return stats;
  }

  /** Adds each input's durable or updates its config; true when any was added or changed. */
  async #ensureDurables(inputs: LaneInput[]): Promise<boolean> {
    this.#jsm ??= await jetstreamManager(this.#o.nc, { domain: this.#o.domain });
    const jsm = this.#jsm;
    const maxAge = (await jsm.streams.info(this.#o.stream)).config.max_age;
    let changed = false;
    for (const input of inputs) {
      const config = {
        durable_name: input.durable,
        filter_subject: input.subject,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(this.#o.ackWaitMs),
        max_ack_pending: this.#o.maxAckPending,
        // Redeliveries are counted here and end in a dead letter, not in a silent stop.
        max_deliver: -1,
        ...(maxAge > 0 ? { inactive_threshold: maxAge } : {}),
      } satisfies Partial<ConsumerConfig>;
      const existing = await jsm.consumers.info(this.#o.stream, input.durable).catch((error: unknown) => {
        if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)
          return undefined;
        throw error;
      });
      if (!existing) {
        await jsm.consumers.add(this.#o.stream, config);
        changed = true;
      } else if (differs(existing.config, config)) {
        const { durable_name: _, deliver_policy: __, filter_subject: ___, ...editable } = config;
        await jsm.consumers.update(this.#o.stream, input.durable, {
          ...editable,
          filter_subject: input.subject,
        });
        changed = true;
      }
    }
    return changed;
  }
}

function sameTarget(input: LaneInput, wanted: Map<string, LaneInput>): boolean {
  const next = wanted.get(input.durable);
  return next?.to.gear === input.to.gear && next.to.port === input.to.port;
}

function differs(existing: Partial<ConsumerConfig>, wanted: Partial<ConsumerConfig>): boolean {
  return Object.entries(wanted).some(([key, value]) => existing[key as keyof ConsumerConfig] !== value);
}
