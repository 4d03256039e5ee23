import * as z from "zod";
import type { GearRunState } from "../../../shared/control/heartbeat.ts";
import type { FluxLimits } from "../../../shared/fluxmsg/limits.ts";
import type { FluxEndpoint, FluxMsg } from "../../../shared/fluxmsg/message.ts";
import { type FluxMsgDraft, newFluxMsg, produce } from "../../../shared/fluxmsg/produce.ts";
import { formatTraceparent, parseTraceparent } from "../../../shared/fluxmsg/traceparent.ts";
import { Journal } from "../journal/journal.ts";
import { heldSpecs, specJournalView } from "../journal/spec-view.ts";
import type { Logger } from "../log/index.ts";
import type { Span, Telemetry } from "../telemetry/index.ts";
import type { Gear, GearContext, GearImplementation, GearLog, GearLogLevel, GearSpecs } from "./gear.ts";
import { GearHealth } from "./gear-health.ts";
import { GearMetrics } from "./gear-metrics.ts";
import { LogThrottle, type ThrottleSettings } from "./log-throttle.ts";
import { resolveSecretRefs } from "./secret-refs.ts";

/** What every gear on a rack shares: where it logs, measures and dead-letters, and the rack's limits. */
export interface GearServices {
  rackName: string;
  telemetry: Telemetry;
  /** The rack's log (console, file, telemetry); gear lines go there too, scoped `<rack>/<gear>`. */
  log: Logger;
  limits: FluxLimits;
  secrets: { get(name: string): string | undefined };
  /** The fluxSpecs held with the scenario part, by reference (none when absent). */
  specs?: GearSpecs | undefined;
  /** `logging.throttling`: lines per second per gear, and burst; read at every line (SIGHUP may change it). */
  throttle?: Readonly<ThrottleSettings> | undefined;
  /** Sends a refused message to `flux.dlq.msg.<rack>` with the reason; never throws. */
  deadLetter(msg: FluxMsgDraft, gear: string, reason: string): void;
  /** The rack's journal (one for every gear, so its counters are the rack's); default one over `telemetry`. */
  journal?: Journal | undefined;
}

/** One gear of a part, as the runtime knows it. */
export interface GearDefinition {
  name: string;
  type: string;
  config: Record<string, unknown>;
  /** Changes whenever the gear's type, config or wiring does. */
  hash: string;
}

/** Where an emitted message goes next: the runtime's routing (hot lanes, guaranteed publishing). */
export type Route = (from: GearHost, port: string, msg: FluxMsg) => undefined | Promise<void>;

/** Messages a gear may hold in `process` at once before senders are asked to wait. */
export const MAX_IN_FLIGHT = 1_024;

/**
 * Runs one gear: parses its config (secrets resolved), drives its lifecycle, and wraps every message with
 * a span (a child of the message's traceparent), metrics, and health. A message whose `process` throws is
 * dead-lettered and the gear keeps running.
 *
 * @example
 * const host = new GearHost(registry.get("router"), definition, services, route, new Set(["in"]));
 * await host.init(); await host.start();
 * host.deliver(msg, "in");
 */
export class GearHost {
  readonly metrics: GearMetrics;
  #gear: Gear | undefined;
  #state: GearRunState = "starting";
  #inFlight = 0;
  #waiting: (() => void)[] = [];
  readonly #health = new GearHealth();
  readonly #log: GearLog;
  readonly #throttle: LogThrottle | undefined;
  readonly #journal: Journal;
  readonly #spanName: string;
  /** Made once: a name built per message is a string the CBOR encoder flattens again for every record. */
  readonly #receiveSpanName: string;
  readonly #spanAttributes: Record<string, string>;
  /** Span attributes by input port, made once: spans read them only when recorded. */
  readonly #portAttributes = new Map<string, Record<string, string>>();
  /** `src` of what the gear emits, by output port, made once. */
  readonly #sources = new Map<string, FluxEndpoint>();

  constructor(
    readonly implementation: GearImplementation,
    readonly definition: GearDefinition,
    private readonly services: GearServices,
    private readonly route: Route,
    private readonly wiredInputs: ReadonlySet<string>,
  ) {
    const labels = { gear_id: definition.name, gear_type: definition.type };
    this.metrics = new GearMetrics(labels);
    const log = services.log.child(`${services.rackName}/${definition.name}`, labels);
    const { throttle } = services;
    this.#throttle = throttle
      ? new LogThrottle(throttle, (count) =>
          log.warn(
            `${count} log line(s) dropped by logging.throttling (rate ${throttle.rate}/s, burst ${throttle.burst})`,
            { dropped_lines: count },
          ),
        )
      : undefined;
    this.#log = gearLog(log, this.#throttle);
    this.#journal = rackJournal(services);
    this.#spanName = `gear ${definition.name}`;
    this.#receiveSpanName = `${this.#spanName} receive`;
    this.#spanAttributes = labels;
  }

  get name(): string {
    return this.definition.name;
  }

  /** `failing` while most recent messages fail; otherwise where the lifecycle is. */
  get state(): GearRunState {
    return this.#state === "running" && this.#health.failing() ? "failing" : this.#state;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Parses the config and runs the gear's `init`; throws naming the gear and the field at fault. */
  async init(): Promise<void> {
    const { name, type, config } = this.definition;
    const { declaration } = this.implementation;
    let parsed: unknown;
    try {
      const resolved = resolveSecretRefs(config, (secret) => this.services.secrets.get(secret));
      parsed = declaration.config.parse(resolved);
    } catch (cause) {
      const detail = cause instanceof z.ZodError ? describeIssues(cause) : (cause as Error).message;
      throw new Error(`gear ${name} (${type}): ${detail}`, { cause });
    }
    this.#gear = this.implementation.create(this.#context(parsed));
    try {
      await this.#gear.init?.();
    } catch (cause) {
      throw new Error(`gear ${name} (${type}) failed to start: ${(cause as Error).message}`, { cause });
    }
  }

  async start(): Promise<void> {
    await this.#gear?.start?.();
    this.#state = "running";
  }

  /**
   * A message on an input, from a hot lane: at most once. Failures are dead-lettered here. Returns a
   * promise only when the gear holds {@link MAX_IN_FLIGHT} messages: the sender should wait on it.
   */
  deliver(msg: FluxMsg, port: string): undefined | Promise<void> {
    if (this.#state !== "running") {
      this.metrics.dropped++;
      return undefined;
    }
    let pending: void | Promise<void>;
    try {
      pending = this.#process(msg, port);
    } catch {
      return undefined;
    }
    if (!pending) return undefined;
    this.#inFlight++;
    pending.catch(() => undefined).finally(() => this.#settled());
    return this.#inFlight >= MAX_IN_FLIGHT
      ? new Promise((resolve) => this.#waiting.push(resolve))
      : undefined;
  }

  /**
   * A message from a guaranteed lane: resolves once the gear is done with it, rejects when it failed (the
   * caller leaves it unacknowledged for redelivery; it is not dead-lettered here).
   */
  async handle(msg: FluxMsg, port: string): Promise<void> {
    if (this.#state !== "running") throw new Error(`gear ${this.name} is ${this.#state}`);
    this.#inFlight++;
    try {
      await this.#process(msg, port, false);
    } finally {
      this.#settled();
    }
  }

  /** Stops taking new work (the gear's own `drain`), then waits for the messages in hand. */
  async drain(): Promise<void> {
    if (this.#state === "stopped") return;
    this.#state = "draining";
    await this.#gear?.drain?.();
    await this.idle();
  }

  /** Resolves once no message is in `process`. */
  async idle(): Promise<void> {
    while (this.#inFlight > 0) await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  async stop(): Promise<void> {
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    await this.#gear?.stop?.();
    this.#throttle?.flush();
  }

  /** Runs `process` inside a span; counts, times and records health. Dead-letters failures when asked. */
  #process(msg: FluxMsg, port: string, deadLetterFailures = true): void | Promise<void> {
    const { services, metrics } = this;
    metrics.messagesIn++;
    const parent = parseTraceparent(msg.trace);
    const span = services.telemetry.startSpan(this.#spanName, {
      parent,
      fluxId: msg.id,
      attributes: this.#attributesOn(port),
    });
    // The gear sees its own span as the message's trace: what it emits from this message is a child of it.
    // An unsampled span keeps its parent's ids, so the message goes on as it came, uncopied.
    const seen =
      span.context.spanId === parent?.spanId ? msg : { ...msg, trace: formatTraceparent(span.context) };
    const started = performance.now();
    // No closure per message: under tsx every named closure is renamed with defineProperty, costing more
    // than the rest of the hop.
    let result: void | Promise<void>;
    try {
      result = this.#gear?.process?.(seen, port);
    } catch (error) {
      return this.#failed(seen, port, span, started, error, deadLetterFailures);
    }
    if (!result) return this.#finish(span, started);
    return result.then(
      () => this.#finish(span, started),
      (error: unknown) => this.#failed(seen, port, span, started, error, deadLetterFailures),
    );
  }

  #attributesOn(port: string): Record<string, string> {
    let attributes = this.#portAttributes.get(port);
    if (!attributes) {
      attributes = { ...this.#spanAttributes, port };
      this.#portAttributes.set(port, attributes);
    }
    return attributes;
  }

  #source(port: string): FluxEndpoint {
    let source = this.#sources.get(port);
    if (!source) {
      source = { rack: this.services.rackName, gear: this.definition.name, port };
      this.#sources.set(port, source);
    }
    return source;
  }

  #failed(
    msg: FluxMsg,
    port: string,
    span: Span,
    started: number,
    error: unknown,
    deadLetter: boolean,
  ): never {
    this.#finish(span, started, error);
    if (deadLetter) this.#refuse(msg, `gear ${this.name} failed on port ${port}: ${errorText(error)}`);
    throw error;
  }

  #finish(span: Span, started: number, error?: unknown): void {
    this.metrics.observe(performance.now() - started);
    this.#health.record(error === undefined);
    if (error === undefined) void span.end();
    else void span.end({ status: "error", attributes: { error: errorText(error) } });
  }

  #refuse(msg: FluxMsgDraft, reason: string): void {
    this.metrics.errors++;
    this.services.deadLetter(msg, this.name, reason);
    this.#log.warn(`dead-lettered ${msg.id}: ${reason}`, {}, msg.id);
    this.#journal.deadLetter(msg, this.name, reason).catch((error: Error) => {
      this.#log.warn(`dead letter ${msg.id} not journaled: ${error.message}`, {}, msg.id);
    });
  }

  #settled(): void {
    this.#inFlight--;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }

  #context(config: unknown): GearContext<never> {
    const { services, definition } = this;
    return {
      name: definition.name,
      rack: services.rackName,
      config: config as never,
      log: this.#log,
      wiredInputs: this.wiredInputs,
      emit: (port, draft) => {
        if (this.#state === "stopped") return undefined;
        const produced = produce(draft, this.#source(port), services.limits);
        if (!produced.ok) {
          this.#refuse(produced.msg, produced.reason);
          return undefined;
        }
        this.metrics.messagesOut++;
        return this.route(this, port, produced.msg);
      },
      newMessage: (init, traceparent) => {
        const parent = traceparent === undefined ? undefined : parseTraceparent(traceparent);
        // The id first: the root span of a business signal carries its flux_id, so traces are found by it.
        // Object.assign, not `{ ...init, trace: "" }`: a field added after a spread is slow on Node 20 (produce.ts).
        const draft = newFluxMsg(Object.assign({}, init, { trace: "" }));
        const attributes = this.#spanAttributes;
        const span = services.telemetry.startSpan(
          this.#receiveSpanName,
          parent ? { parent, fluxId: draft.id, attributes } : { fluxId: draft.id, attributes },
        );
        draft.trace = formatTraceparent(span.context);
        void span.setAttributes({ flux_id: draft.id }).end();
        return draft;
      },
      deadLetter: (msg, reason) => this.#refuse(msg, reason),
      journal: (msg, crossing) => this.#journal.record(msg, crossing),
      specs: services.specs ?? heldSpecs(() => undefined, services.secrets),
    };
  }
}

/** The services' journal, or one over their telemetry client. */
export function rackJournal(services: GearServices): Journal {
  const journal = services.journal ?? new Journal(services.telemetry, { warn: services.log.warn });
  return services.specs ? journal.useView(specJournalView(services.specs)) : journal;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `config.${issue.path.map(String).join(".")}: ${issue.message}`)
    .join("; ");
}

/** A gear's logger: the rack's log scoped to the gear (`gear_id`, `gear_type`), within its throttle. */
function gearLog(log: Logger, throttle: LogThrottle | undefined): GearLog {
  const line =
    (level: GearLogLevel) =>
    (message: string, attributes: Record<string, unknown> = {}, fluxId?: string) => {
      if (!log.enabled(level) || (throttle && !throttle.take())) return;
      log.write(level, message, attributes, fluxId ?? null);
    };
  return { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") };
}
