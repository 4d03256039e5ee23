import type { GearState } from "../../../shared/control/heartbeat.ts";
import type { RackStatus } from "../../../shared/passport/index.ts";
import type { RackSecrets } from "./rack-secrets.ts";

/**
 * Whether this rack's gears run. There are no gears yet: this holds the one decision the passport makes
 * about them (only an `active` rack runs gears and sends business data), says it in the log, and reports it
 * in every heartbeat, so operators and tests can watch it.
 */
export class GearRunner {
  #state: GearState = "stopped";
  #secrets: RackSecrets | undefined;

  constructor(private readonly log: (message: string) => void) {}

  get state(): GearState {
    return this.#state;
  }

  /** The secrets gears may read (in memory only), while they run. */
  get secrets(): RackSecrets | undefined {
    return this.#secrets;
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

  /** Stops the gears (on a passport that is no longer active, or at shutdown). */
  stop(reason: string): void {
    this.#secrets = undefined;
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    this.log(`gears stopped: ${reason}`);
  }

  #start(secrets: RackSecrets): void {
    this.#secrets = secrets;
    if (this.#state === "running") return;
    this.#state = "running";
    const count = secrets.names().length;
    this.log(`gears started (${count} secret${count === 1 ? "" : "s"} available to them)`);
  }
}
