import type { RackStatus } from "../../../shared/passport/index.ts";

/** One row of the `racks` table (migrations/0002_racks.sql and later) as D1 returns it. */
export interface RackRow {
  id: string;
  name: string;
  identity_key: string;
  key_fingerprint: string;
  sealing_key: string;
  ip: string;
  version: string;
  labels: string;
  status: RackStatus;
  config: string;
  /** Secrets set on the mixer (a CBOR map, ciphertext only). D1 hands BLOBs back as arrays of numbers. */
  secrets: number[] | ArrayBuffer | null;
  /** The rack's own secrets, sealed by the rack at its last enrollment; those set on the mixer win. */
  rack_secrets: number[] | ArrayBuffer | null;
  /** Grows with every change a passport states; conditional writes compare it (migrations/0003). */
  revision: number;
  passport: number[] | ArrayBuffer | null;
  passport_issued_at: number;
  first_seen: number;
  last_seen: number;
  status_changed_at: number;
  heartbeat_interval_ms: number;
  last_heartbeat: string | null;
  last_heartbeat_sent_at: number;
  /** The boot stamp of the last heartbeat accepted (migrations/0005). */
  last_heartbeat_boot: number;
  /** Rack clock: `sent_at` of the last enrollment accepted; one not newer is a replay (migrations/0004). */
  last_enroll_sent_at: number;
  /** The scenario part assigned to the rack and what it reports running (migrations/0006). */
  scenario_name: string | null;
  scenario_hash: string | null;
  scenario_part: number[] | ArrayBuffer | null;
  scenario_assigned_at: number;
  scenario_reported_hash: string | null;
  scenario_state: string | null;
  scenario_error: string | null;
  /** The rack's NATS user nkey (public), '' before it sent one (migrations/0009). */
  nats_user_key: string;
}

/** A BLOB column as bytes (empty when NULL); bytes about to be written pass through as they are. */
export function blobBytes(value: number[] | ArrayBuffer | Uint8Array | null): Uint8Array {
  if (value === null) return new Uint8Array();
  return value instanceof ArrayBuffer ? new Uint8Array(value) : Uint8Array.from(value);
}
