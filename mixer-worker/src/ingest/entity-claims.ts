import { subjectRack, subjectToken } from "../../../shared/fluxmsg/subjects.ts";
import { consoleLine } from "../self/console-line.ts";

/**
 * Whom a message's records may speak for: the rack its subject names (as a subject token), that rack's
 * registered id if it is enrolled, and which rack holds any other registered id.
 */
export interface EntityCheck {
  subject: string;
  rack: string;
  rackId?: string;
  rackOfId(id: string): string | undefined;
}

/**
 * Why a record claims another entity than the rack its subject names, or undefined when it does not: its
 * `entity_name` must be that rack, and its `entity_id` that rack's registered id, or, for a rack not enrolled
 * (e.g. `fluxrig emit`), no other rack's id. Ingest trusts a record only as far as its subject, which bus
 * permissions tie to one rack.
 *
 * @example entityClaimProblem({ entity_id, entity_name: "rack-b" }, check) // "entity_name \"rack-b\" is not rack-a, …"
 */
export function entityClaimProblem(
  record: { entity_id: string; entity_name: string },
  check: EntityCheck,
): string | undefined {
  const named = `${check.rack}, the rack its subject ${check.subject} names`;
  if (subjectToken(record.entity_name) !== check.rack) {
    return `entity_name ${JSON.stringify(record.entity_name)} is not ${named}`;
  }
  if (check.rackId !== undefined && record.entity_id !== check.rackId) {
    return `entity_id ${record.entity_id} is not ${check.rackId}, the id of ${named}`;
  }
  const owner = check.rackOfId(record.entity_id);
  if (owner !== undefined && owner !== check.rack) {
    return `entity_id ${record.entity_id} is rack ${owner}'s, not ${named}`;
  }
  return undefined;
}

/** How stale the registry's view may be: a rack enrolled since is checked by name alone until then. */
const REFRESH_MS = 30_000;

/**
 * The registry's racks (id and name) as ingest checks records against them, read at most every 30 s. A
 * failed read keeps the last view (names are still checked): ingest does not stop for the registry.
 *
 * @example const check = await racks.check("flux.telemetry.logs.rack-a");
 */
export class KnownRacks {
  #idByRack = new Map<string, string>();
  #rackById = new Map<string, string>();
  #loadedAt = 0;
  #loading: Promise<void> | undefined;

  constructor(private readonly load: () => Promise<{ id: string; name: string }[]>) {}

  async check(subject: string): Promise<EntityCheck> {
    if (Date.now() - this.#loadedAt > REFRESH_MS) await this.#refresh();
    const rack = subjectRack(subject);
    const rackId = this.#idByRack.get(rack);
    return {
      subject,
      rack,
      ...(rackId === undefined ? {} : { rackId }),
      rackOfId: (id) => this.#rackById.get(id),
    };
  }

  #refresh(): Promise<void> {
    if (this.#loading) return this.#loading;
    const loading = this.load()
      .then((racks) => {
        this.#idByRack = new Map(racks.map((r) => [subjectToken(r.name), r.id]));
        this.#rackById = new Map(racks.map((r) => [r.id, subjectToken(r.name)]));
      })
      .catch((error: Error) => {
        consoleLine("error", `ingest: cannot read the registry's racks: ${error.message}`);
      })
      .finally(() => {
        this.#loadedAt = Date.now();
        this.#loading = undefined;
      });
    this.#loading = loading;
    return loading;
  }
}
