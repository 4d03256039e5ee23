import { clearInterval, setInterval } from "node:timers";
import type { GearState, ScenarioReport } from "../../../shared/control/heartbeat.ts";
import type { RackStatus } from "../../../shared/passport/index.ts";
import type { ScenarioPart } from "../../../shared/scenario/index.ts";
import { FlowRuntime, type GuaranteedLanes } from "../flow/flow-runtime.ts";
import type { GearServices } from "../gears/gear-host.ts";
import { GearRegistry } from "../gears/registry.ts";
import type { RackSecrets } from "./rack-secrets.ts";

/** What gears need from the rack once it is online: all of {@link GearServices} but the secrets. */
export type RackGearServices = Omit<GearServices, "secrets"> & { lanes?: GuaranteedLanes };

/** How often gears' counters and latency go out as metrics. */
const METRICS_INTERVAL_MS = 10_000;

/**
 * Whether this rack's gears run, and which. The passport decides whether (only an `active` rack runs gears
 * and sends business data); a scenario part says which, and runs once the rack is online (telemetry and dead
 * letters need the bus). Reports both in every heartbeat. Parts come from the mixer's activation and, at
 * start, from the copy kept beside the passport (rack-agent.ts), through {@link runPart}.
 */
export class GearRunner {
  #state: GearState = "stopped";
  #secrets: RackSecrets | undefined;
  #part: ScenarioPart | undefined;
  #services: RackGearServices | undefined;
  #flow: FlowRuntime | undefined;
  #metrics: ReturnType<typeof setInterval> | undefined;
  /** Changes to the running flow apply one at a time, in order. */
  #syncing: Promise<void> = Promise.resolve();
  /** `mixer.max_hops`, delivered with the part: the global cap over the rack's own `rack.max_hops`. */
  #mixerMaxHops = Number.POSITIVE_INFINITY;
  /** How the last application of a part went, for the scenario report. */
  #outcome: { hash: string; state: "running" | "refused"; error?: string } | undefined;

  constructor(
    private readonly log: (message: string) => void,
    private readonly registry: GearRegistry = GearRegistry.builtIn(),
  ) {}

  get state(): GearState {
    return this.#state;
  }

  /** The secrets gears may read (in memory only), while they run. */
  get secrets(): RackSecrets | undefined {
    return this.#secrets;
  }

  /**
   * The part this rack holds and how it stands, for heartbeats: `starting` until it was applied (or while
   * the rack is not active or not online), then `running`, or `refused` with why when a gear could not start.
   */
  get scenario(): ScenarioReport | undefined {
    const part = this.#part;
    if (!part) return undefined;
    const { hash, name } = part.scenario;
    const outcome = this.#outcome?.hash === hash && this.#flow ? this.#outcome : undefined;
    const gears = this.#flow?.scenario?.gears;
    return {
      name,
      hash,
      state: outcome?.state ?? "starting",
      ...(outcome?.error ? { error: outcome.error } : {}),
      ...(gears ? { gears } : {}),
    };
  }

  /**
   * Starts the gears for an `active` passport and stops them for any other status.
   *
   * @example gears.follow(passport.status, secrets);
   */
  follow(status: RackStatus, secrets: RackSecrets): void {
    if (status === "active") this.#start(secrets);
    else this.stop(`the rack is ${status}`);
  }

  /** The rack is online: gears can log, measure and dead-letter. */
  attach(services: RackGearServices): void {
    this.#services = services;
    this.#sync();
  }

  /**
   * The scenario part to run (undefined: none). Runs now if the rack is active and online, else when it is.
   *
   * @example await gears.runPart(await scenarioPart(scenario, "edge"));
   */
  runPart(part: ScenarioPart | undefined, options: { maxHops?: number } = {}): Promise<void> {
    this.#part = part;
    this.#mixerMaxHops = options.maxHops ?? Number.POSITIVE_INFINITY;
    return this.#sync();
  }

  /** Stops the gears (on a passport that is no longer active, or at shutdown). */
  stop(reason: string): void {
    this.#secrets = undefined;
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    this.#sync();
    this.log(`gears stopped: ${reason}`);
  }

  /** Resolves once the flow follows the latest state (gears drained and stopped after `stop`). */
  settled(): Promise<void> {
    return this.#syncing;
  }

  #start(secrets: RackSecrets): void {
    this.#secrets = secrets;
    if (this.#state === "running") return;
    this.#state = "running";
    const count = secrets.names().length;
    this.log(`gears started (${count} secret${count === 1 ? "" : "s"} available to them)`);
    this.#sync();
  }

  /** Brings the flow in line with state, part and services. */
  #sync(): Promise<void> {
    this.#syncing = this.#syncing
      .then(async () => {
        const services = this.#services;
        const secrets = this.#secrets;
        if (this.#state === "running" && this.#part && services && secrets) {
          this.#flow ??= this.#newFlow(services);
          const part = this.#part;
          const applied = await this.#flow.apply(part).catch((error: Error) => {
            this.#outcome = { hash: part.scenario.hash, state: "refused", error: error.message };
            throw error;
          });
          const failed = applied.failed.map(({ gear, error }) => `gear ${gear}: ${error.message}`).join("; ");
          this.#outcome = failed
            ? { hash: part.scenario.hash, state: "refused", error: failed.slice(0, 2_000) }
            : { hash: part.scenario.hash, state: "running" };
        } else if (this.#flow) {
          const flow = this.#flow;
          this.#flow = undefined;
          clearInterval(this.#metrics);
          flow.reportMetrics();
          await flow.stop();
        }
      })
      .catch((error: Error) => this.log(`applying the scenario part failed: ${error.message}`));
    return this.#syncing;
  }

  #newFlow(services: RackGearServices): FlowRuntime {
    // Secrets are read when a gear starts, from the latest passport's.
    const secrets = { get: (name: string) => this.#secrets?.get(name) };
    // Read per message produced, so a later part's cap applies to the running flow too.
    const runner = this;
    const limits = {
      get maxHops() {
        return Math.min(services.limits.maxHops, runner.#mixerMaxHops);
      },
      maxPayloadSize: services.limits.maxPayloadSize,
    };
    const flow = new FlowRuntime({ ...services, secrets, limits }, this.registry, services.lanes);
    this.#metrics = setInterval(() => flow.reportMetrics(), METRICS_INTERVAL_MS);
    this.#metrics.unref();
    return flow;
  }
}
