import type { GearRunState } from "../../../shared/control/heartbeat.ts";
import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import {
  laneSubjectFor,
  ownLaneInput,
  type PartGear,
  type ScenarioPart,
} from "../../../shared/scenario/index.ts";
import type { FluxSpec } from "../../../shared/spec/index.ts";
import { GearHost, type GearServices, rackJournal } from "../gears/gear-host.ts";
import type { GearRegistry } from "../gears/registry.ts";
import type { Journal } from "../journal/journal.ts";
import { heldSpecs } from "../journal/spec-view.ts";
import type { Telemetry } from "../telemetry/index.ts";
import { upstreamFirst } from "./gear-order.ts";
import type { LaneHandler, LaneInput } from "./lane-consumer.ts";

/** Where guaranteed lanes go: JetStream publishing and durable consumers (guaranteed-lanes.ts). */
export interface GuaranteedLanes {
  /** Publishes a message on a lane subject; resolves once JetStream stored it, rejects if it never will. */
  publish(subject: string, msg: FluxMsg): Promise<void>;
  /**
   * Consumes exactly these inputs from now on, delivering to `handle` (acked once it resolves); inputs no
   * longer listed stop, and resolve once what they held is finished.
   */
  consume(inputs: LaneInput[], handle: LaneHandler): Promise<void>;
  /** Sends the lanes' counters as metrics (`fluxrig.lane.*`). */
  reportMetrics?(telemetry: Telemetry): void;
}

/** A hot wire's receiving end. */
interface Target {
  gear: string;
  port: string;
}

/** What applying a part did, by gear name. */
export interface AppliedPart {
  started: string[];
  stopped: string[];
  kept: string[];
  /** Gears whose config or `init` failed: they stay stopped, the others run. */
  failed: { gear: string; error: Error }[];
}

/**
 * Runs a scenario part on this rack. Hot wires are direct calls: an emit calls the receiving gear's
 * `process` at once, in the sender's call stack (no queue, no copy; at most once; a gear holding too many
 * messages makes its senders wait). Guaranteed wires go through {@link GuaranteedLanes}: an emit onto one
 * resolves once the message is stored, and a message from one is acked once its gear (and every emit it
 * awaited) is done. A new part restarts only the gears whose hash changed (their type, config or wiring):
 * they are drained upstream first and started downstream first; the others keep running and follow the new
 * routes at once. Lane messages for a restarting gear wait for it instead of failing; a lane that leaves the
 * part stops before its gear does, so what it holds finishes and is acked.
 *
 * @example
 * const flow = new FlowRuntime(services, GearRegistry.builtIn());
 * await flow.apply(await scenarioPart(scenario, "edge"));
 * …
 * await flow.stop();
 */
export class FlowRuntime {
  readonly #hosts = new Map<string, GearHost>();
  #routes = new Map<string, Target[]>();
  #publish = new Map<string, ScenarioPart["publish"]>();
  /** The guaranteed inputs being consumed. */
  #consumed: LaneInput[] = [];
  #part: ScenarioPart | undefined;
  /** Applications run one at a time, in order. */
  #applying: Promise<unknown> = Promise.resolve();
  /** Settles once the part being applied has started its gears: lane messages for a restarting gear wait. */
  #ready: Promise<void> = Promise.resolve();
  readonly #journal: Journal;
  /** The fluxSpecs of the part applied last: gears read them through their context. */
  #specs = new Map<string, FluxSpec>();
  private readonly services: GearServices;

  constructor(
    services: GearServices,
    private readonly registry: GearRegistry,
    private readonly lanes?: GuaranteedLanes,
  ) {
    this.services = {
      ...services,
      specs: heldSpecs((reference) => this.#specs.get(reference), services.secrets),
    };
    this.#journal = rackJournal(this.services);
  }

  /** The running part's scenario hash and each gear's state, for heartbeats. */
  get scenario(): { hash: string; gears: Record<string, GearRunState> } | undefined {
    if (!this.#part) return undefined;
    const gears = Object.fromEntries(
      this.#part.gears.map((g) => [g.name, this.#hosts.get(g.name)?.state ?? "stopped"]),
    );
    return { hash: this.#part.scenario.hash, gears };
  }

  /** The gears running now, by name (metrics reports, tests). */
  get hosts(): ReadonlyMap<string, GearHost> {
    return this.#hosts;
  }

  apply(part: ScenarioPart): Promise<AppliedPart> {
    const next = this.#applying.then(() => this.#apply(part));
    this.#applying = next.catch(() => undefined);
    return next;
  }

  /**
   * Delivers a message to a gear's input as a hot lane would: how a test or a benchmark feeds a flow.
   *
   * @example flow.deliver("parser", "in", msg);
   */
  deliver(gear: string, port: string, msg: FluxMsg): undefined | Promise<void> {
    const host = this.#hosts.get(gear);
    if (!host) throw new Error(`no gear "${gear}" runs here`);
    return host.deliver(msg, port);
  }

  /** Stops the guaranteed inputs (what they hold finishes), then drains and stops every gear, upstream first. */
  stop(): Promise<void> {
    const done = this.#applying.then(async () => {
      await this.lanes?.consume([], this.#handleGuaranteed);
      await this.#stopGears([...this.#hosts.keys()], this.#part?.hot ?? []);
      this.#part = undefined;
    });
    this.#applying = done.catch(() => undefined);
    return done;
  }

  /** Every gear's counters and latency, and the lanes' counters, as telemetry metrics; call it every reporting interval. */
  reportMetrics(): void {
    for (const host of this.#hosts.values()) host.metrics.report(this.services.telemetry);
    this.lanes?.reportMetrics?.(this.services.telemetry);
  }

  async #apply(part: ScenarioPart): Promise<AppliedPart> {
    const wanted = new Map(part.gears.map((gear) => [gear.name, gear]));
    const changed = (name: string) => wanted.get(name)?.hash !== this.#hosts.get(name)?.definition.hash;
    const leaving = [...this.#hosts.keys()].filter(changed);
    const kept = [...this.#hosts.keys()].filter((name) => !changed(name));
    let ready = () => {};
    this.#ready = new Promise((resolve) => {
      ready = resolve;
    });
    // Lanes of gears that stay (restarting or not) go on pulling; the others finish what they hold first.
    await this.lanes?.consume(
      this.#consumed.filter(
        (input) =>
          part.consume.some((next) => sameInput(input, next) || sameInput(input, this.#ownInput(next))) &&
          wanted.has(input.to.gear),
      ),
      this.#handleGuaranteed,
    );
    await this.#stopGears(leaving, this.#part?.hot ?? []);
    this.#routes = hotRoutes(part);
    this.#publish = publishRoutes(part);
    this.#part = part;
    // Gears that keep running read no spec that changed: a new spec changes their hash, so they restarted.
    this.#specs = partSpecs(part);
    const coming = part.gears.filter((gear) => !this.#hosts.has(gear.name));
    const failed: AppliedPart["failed"] = [];
    const started: string[] = [];
    // Receivers first, so that no source emits into a gear not yet running.
    for (const name of upstreamFirst(
      coming.map((g) => g.name),
      part.hot,
    ).reverse()) {
      const error = await this.#startGear(wanted.get(name) as PartGear, part);
      if (error) failed.push({ gear: name, error });
      else started.push(name);
    }
    ready();
    // A gear that could not start takes nothing from its lanes: its messages wait in the stream for a fix.
    this.#consumed = part.consume
      .filter((input) => this.#hosts.has(input.to.gear))
      .flatMap((input) => (input.returning ? [input, this.#ownInput(input)] : [input]));
    await this.lanes?.consume(this.#consumed, this.#handleGuaranteed);
    const summary = `${started.length} started, ${leaving.length} stopped, ${kept.length} unchanged`;
    this.services.log.info(
      `scenario ${part.scenario.name} ${part.scenario.version} (${part.scenario.hash.slice(0, 12)}) on ${part.rack}: ${summary}`,
    );
    for (const { gear, error } of failed)
      this.services.log.warn(`gear ${gear} not started: ${error.message}`);
    return { started, stopped: leaving, kept, failed };
  }

  async #startGear(gear: PartGear, part: ScenarioPart): Promise<Error | undefined> {
    const wiredInputs = new Set([
      ...part.hot.filter((w) => w.to.gear === gear.name).map((w) => w.to.port),
      ...part.consume.filter((c) => c.to.gear === gear.name).map((c) => c.to.port),
    ]);
    try {
      const host = new GearHost(this.registry.get(gear.type), gear, this.services, this.#route, wiredInputs);
      await host.init();
      this.#hosts.set(gear.name, host);
      await host.start();
      return undefined;
    } catch (error) {
      return error as Error;
    }
  }

  async #stopGears(names: string[], wires: ScenarioPart["hot"]): Promise<void> {
    for (const name of upstreamFirst(names, wires)) {
      const host = this.#hosts.get(name);
      if (!host) continue;
      await host.drain();
      await host.stop();
      this.#hosts.delete(name);
    }
  }

  readonly #route = (from: GearHost, port: string, msg: FluxMsg): undefined | Promise<void> => {
    const key = `${from.name}.${port}`;
    // Allocated only when a receiver is saturated or a lane publishes: the common hot path makes no array.
    let wait: Promise<unknown>[] | undefined;
    for (const target of this.#routes.get(key) ?? []) {
      const host = this.#hosts.get(target.gear);
      if (!host) {
        from.metrics.dropped++;
        continue;
      }
      const pending = host.deliver(msg, target.port);
      if (pending) {
        wait ??= [];
        wait.push(pending);
      }
    }
    for (const lane of this.#publish.get(key) ?? []) {
      wait ??= [];
      wait.push(this.#publishGuaranteed(laneSubjectFor(lane, msg), msg));
    }
    return wait ? Promise.all(wait).then(() => undefined) : undefined;
  };

  /** This rack's own consumer of a returning input (the same input when it is not one). */
  #ownInput(input: LaneInput): LaneInput {
    return input.returning ? ownLaneInput(input, this.services.rackName) : input;
  }

  /** Rejects when the message will not be stored: the emitting gear's message fails, and is not acked. */
  #publishGuaranteed(subject: string, msg: FluxMsg): Promise<void> {
    if (!this.lanes) {
      return Promise.reject(
        new Error(`publishing to ${subject} failed: this rack has no guaranteed lanes (no bus connection)`),
      );
    }
    return this.lanes.publish(subject, msg);
  }

  readonly #handleGuaranteed = async (gear: string, port: string, msg: FluxMsg): Promise<void> => {
    let host = this.#hosts.get(gear);
    if (host?.state !== "running" && host?.state !== "failing") {
      await this.#ready;
      host = this.#hosts.get(gear);
    }
    if (!host) throw new Error(`gear ${gear} is not running`);
    if (!this.#part?.journal?.guaranteed_wires) return host.handle(msg, port);
    // Journaled once the receiving gear is done, whatever the outcome; a failed delivery is redelivered and
    // journaled again (each attempt is a record). The lane acks only after this resolves, so the record must
    // be durable first (on the bus or in the spool): a crash after the ack must not lose it. A record that
    // cannot be made durable fails the delivery, which is then redelivered.
    // Whole literals: a field added after a spread costs ~1 µs on Node 20 (shared/object/merge.ts).
    const crossing = (status: "ok" | "error") =>
      ({ direction: "internal", src: msg.src.gear, dst: gear, status }) as const;
    try {
      await host.handle(msg, port);
    } catch (error) {
      await this.#journal.record(msg, crossing("error"), DURABLE).catch(() => undefined);
      throw error;
    }
    await this.#journal.record(msg, crossing("ok"), DURABLE);
  };
}

const DURABLE = { durable: true };

/** A part's specs by the references gears gave, and by `id:version` (what `meta.spec` and `meta.spec_version` name). */
function partSpecs(part: ScenarioPart): Map<string, FluxSpec> {
  const specs = new Map<string, FluxSpec>();
  for (const [reference, spec] of Object.entries(part.specs)) {
    specs.set(reference, spec);
    specs.set(`${spec.spec.id}:${spec.spec.version}`, spec);
  }
  return specs;
}

function sameInput(a: LaneInput, b: LaneInput): boolean {
  return (
    a.durable === b.durable && a.subject === b.subject && a.to.gear === b.to.gear && a.to.port === b.to.port
  );
}

function hotRoutes(part: ScenarioPart): Map<string, Target[]> {
  const routes = new Map<string, Target[]>();
  for (const wire of part.hot) {
    const key = `${wire.from.gear}.${wire.from.port}`;
    routes.set(key, [...(routes.get(key) ?? []), { gear: wire.to.gear, port: wire.to.port }]);
  }
  return routes;
}

function publishRoutes(part: ScenarioPart): Map<string, ScenarioPart["publish"]> {
  const routes = new Map<string, ScenarioPart["publish"]>();
  for (const lane of part.publish) {
    const key = `${lane.from.gear}.${lane.from.port}`;
    routes.set(key, [...(routes.get(key) ?? []), lane]);
  }
  return routes;
}
