import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { openScenarioDelivery, type ScenarioDelivery } from "../../../shared/control/scenario-delivery.ts";
import type { PinnedKey } from "../../../shared/passport/index.ts";
import { writeDurably } from "../fs/write-durably.ts";

/** Beside the passport: the rack's last scenario part, as the mixer signed it. */
export const SCENARIO_FILE = "scenario.flux";

/**
 * The rack's scenario part file, `<base.state_dir>/scenario.flux`, so a restarted rack runs its scenario
 * without the mixer. Only a part signed by the pinned cluster key, addressed to this rack and newer than
 * the one held replaces it, atomically; a refused part leaves the last good one in place.
 */
export class ScenarioStore {
  readonly path: string;

  constructor(private readonly stateDir: string) {
    this.path = join(stateDir, SCENARIO_FILE);
  }

  /**
   * The stored part, verified; undefined when there is none. Throws naming the file when it is not good.
   *
   * @example const cached = await scenarios.load(pin.key, rackId);
   */
  async load(pin: PinnedKey, rackId: string): Promise<ScenarioDelivery | undefined> {
    const bytes = await readFile(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw new Error(`cannot read ${this.path}: ${error.message}`, { cause: error });
    });
    if (bytes === undefined) return undefined;
    return openScenarioDelivery(bytes, pin, rackId).catch((error: Error) => {
      throw new Error(`${this.path}: ${error.message}`, { cause: error });
    });
  }

  /**
   * Verifies a delivered part and makes it the stored one. Resolves with `current` when it is the part
   * already held (a repeated delivery); throws, the file untouched, when it is refused.
   *
   * @example held = await scenarios.save(msg.data, pin.key, rackId, held);
   */
  async save(
    bytes: Uint8Array,
    pin: PinnedKey,
    rackId: string,
    current?: ScenarioDelivery,
  ): Promise<ScenarioDelivery> {
    const delivery = await openScenarioDelivery(bytes, pin, rackId);
    if (current && delivery.issued_at === current.issued_at) return current;
    if (current && delivery.issued_at < current.issued_at) {
      throw new Error(
        `the scenario part was issued ${new Date(delivery.issued_at).toISOString()}, before the one held ` +
          `(${new Date(current.issued_at).toISOString()}): an old part replayed`,
      );
    }
    await writeDurably(this.stateDir, SCENARIO_FILE, bytes, { mode: 0o600 });
    return delivery;
  }
}
