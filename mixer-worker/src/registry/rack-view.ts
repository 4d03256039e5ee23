import { formatDuration } from "../../../shared/config/index.ts";
import type { RackRow } from "./rack-row.ts";
import { passportSecrets } from "./rack-secrets.ts";

/** A rack goes stale after this many heartbeat intervals without one. */
export const STALE_AFTER_INTERVALS = 3;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A rack as the API shows it. `stale` is computed from `last_seen` and the interval the rack itself
 * reported, so a rack with a long `rack.heartbeat_interval` is not flagged early.
 *
 * @example c.json(rackView(row, Date.now()))
 */
export function rackView(rack: RackRow, now: number) {
  return {
    id: rack.id,
    name: rack.name,
    status: rack.status,
    stale: now - rack.last_seen > STALE_AFTER_INTERVALS * rack.heartbeat_interval_ms,
    ip: rack.ip,
    version: rack.version,
    labels: JSON.parse(rack.labels) as Record<string, string>,
    key_fingerprint: rack.key_fingerprint,
    first_seen: iso(rack.first_seen),
    last_seen: iso(rack.last_seen),
    status_changed_at: iso(rack.status_changed_at),
    heartbeat_interval: formatDuration(rack.heartbeat_interval_ms),
    last_heartbeat: rack.last_heartbeat ? (JSON.parse(rack.last_heartbeat) as Record<string, unknown>) : null,
    passport_issued_at: rack.passport_issued_at ? iso(rack.passport_issued_at) : null,
    secrets: Object.keys(passportSecrets(rack)).sort(),
    config: JSON.parse(rack.config) as Record<string, unknown>,
  };
}

/** A rack as the API answers it. */
export type RackView = ReturnType<typeof rackView>;
