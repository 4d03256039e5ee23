import type { RackStatus } from "../../../shared/passport/index.ts";
import type { RackRow } from "./rack-row.ts";

/** The registry's racks table: plain reads and writes; the rules live in the control and route modules. */

/**
 * One rack by a unique column.
 *
 * @example const rack = await findRack(env.REGISTRY, "id", id);
 */
export function findRack(
  db: D1Database,
  column: "id" | "name" | "identity_key",
  value: string,
): Promise<RackRow | null> {
  return db.prepare(`SELECT * FROM racks WHERE ${column} = ?`).bind(value).first<RackRow>();
}

/** Every rack, oldest enrollment first, optionally of one status. */
export async function listRacks(db: D1Database, status?: RackStatus): Promise<RackRow[]> {
  const query = status
    ? db.prepare("SELECT * FROM racks WHERE status = ? ORDER BY first_seen, id").bind(status)
    : db.prepare("SELECT * FROM racks ORDER BY first_seen, id");
  return (await query.all<RackRow>()).results;
}

/** What an enrollment sets, on a new row or on the row of the same identity key. */
export type EnrollmentFields = Pick<
  RackRow,
  | "name"
  | "ip"
  | "version"
  | "labels"
  | "config"
  | "heartbeat_interval_ms"
  | "sealing_key"
  | "last_enroll_sent_at"
  | "nats_user_key"
> & { rack_secrets: Uint8Array };

/**
 * Adds a rack at its first enrollment. Resolves false when the name or key was taken meanwhile (a
 * concurrent enrollment won), so the caller can look again.
 */
export async function insertRack(
  db: D1Database,
  rack: EnrollmentFields & Pick<RackRow, "id" | "identity_key" | "key_fingerprint" | "status">,
  now: number,
): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT OR IGNORE INTO racks (id, name, identity_key, key_fingerprint, sealing_key, ip, version, labels,
         status, config, rack_secrets, first_seen, last_seen, status_changed_at, heartbeat_interval_ms,
         last_enroll_sent_at, nats_user_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      rack.id,
      rack.name,
      rack.identity_key,
      rack.key_fingerprint,
      rack.sealing_key,
      rack.ip,
      rack.version,
      rack.labels,
      rack.status,
      rack.config,
      rack.rack_secrets,
      now,
      now,
      now,
      rack.heartbeat_interval_ms,
      rack.last_enroll_sent_at,
      rack.nats_user_key,
    )
    .run();
  return result.meta.changes === 1;
}

/**
 * Updates a known rack from a repeated enrollment (same identity key); its id, status and the secrets set on
 * the mixer stay, so an enrollment never undoes a concurrent secret PUT. Resolves false, changing nothing,
 * when an enrollment at least as new (rack clock) was accepted meanwhile.
 */
export async function updateEnrollment(
  db: D1Database,
  id: string,
  fields: EnrollmentFields,
  now: number,
): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE racks SET name = ?, ip = ?, version = ?, labels = ?, config = ?, sealing_key = ?, rack_secrets = ?,
         heartbeat_interval_ms = ?, last_seen = ?, last_enroll_sent_at = ?, nats_user_key = ?,
         revision = revision + 1
       WHERE id = ? AND last_enroll_sent_at < ?`,
    )
    .bind(
      fields.name,
      fields.ip,
      fields.version,
      fields.labels,
      fields.config,
      fields.sealing_key,
      fields.rack_secrets,
      fields.heartbeat_interval_ms,
      now,
      fields.last_enroll_sent_at,
      fields.nats_user_key,
      id,
      fields.last_enroll_sent_at,
    )
    .run();
  return result.meta.changes === 1;
}

/**
 * Moves a rack from one status to another; resolves false when it was not in `from` any more (a concurrent
 * change won), so two operators never both "win" a transition.
 */
export async function updateStatus(
  db: D1Database,
  id: string,
  from: RackStatus,
  to: RackStatus,
  now: number,
): Promise<boolean> {
  const result = await db
    .prepare(
      "UPDATE racks SET status = ?, status_changed_at = ?, revision = revision + 1 WHERE id = ? AND status = ?",
    )
    .bind(to, now, id, from)
    .run();
  return result.meta.changes === 1;
}

/**
 * Replaces the secrets set on the mixer (ciphertext only), if the row is still at `revision`; resolves false
 * when it moved meanwhile (`changeRack` in rack-revision.ts reads it again and retries).
 */
export async function updateSecrets(
  db: D1Database,
  id: string,
  revision: number,
  secrets: Uint8Array,
): Promise<boolean> {
  const result = await db
    .prepare("UPDATE racks SET secrets = ?, revision = revision + 1 WHERE id = ? AND revision = ?")
    .bind(secrets, id, revision)
    .run();
  return result.meta.changes === 1;
}

/**
 * Keeps a passport just signed from the row at `revision`. Resolves false, storing nothing, when the row
 * moved meanwhile (the passport would miss that change) or a newer passport was stored.
 */
export async function storePassport(
  db: D1Database,
  id: string,
  revision: number,
  passport: Uint8Array,
  issuedAt: number,
): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE racks SET passport = ?, passport_issued_at = ?
       WHERE id = ? AND revision = ? AND passport_issued_at < ?`,
    )
    .bind(passport, issuedAt, id, revision, issuedAt)
    .run();
  return result.meta.changes === 1;
}

/**
 * Records a heartbeat: `last_seen` (mixer clock), the rack's interval and stats. Resolves false when the
 * heartbeat is not newer than the last one accepted, by (boot, sent_at): a replay changes nothing, while a
 * restarted rack (a larger boot stamp) starts a new sequence whatever its clock says.
 */
export async function recordHeartbeat(
  db: D1Database,
  id: string,
  heartbeat: {
    boot: number;
    sentAt: number;
    intervalMs: number;
    stats: string;
    /** What the rack reports of its scenario part, if it holds one. */
    scenario?: { hash: string; state: string; error?: string | undefined } | undefined;
  },
  now: number,
): Promise<boolean> {
  const { boot, sentAt, scenario } = heartbeat;
  const result = await db
    .prepare(
      `UPDATE racks SET last_seen = ?, heartbeat_interval_ms = ?, last_heartbeat = ?, last_heartbeat_boot = ?,
         last_heartbeat_sent_at = ?, scenario_reported_hash = ?, scenario_state = ?, scenario_error = ?
       WHERE id = ? AND (last_heartbeat_boot < ? OR (last_heartbeat_boot = ? AND last_heartbeat_sent_at < ?))`,
    )
    .bind(
      now,
      heartbeat.intervalMs,
      heartbeat.stats,
      boot,
      sentAt,
      scenario?.hash ?? null,
      scenario?.state ?? null,
      scenario?.error ?? null,
      id,
      boot,
      boot,
      sentAt,
    )
    .run();
  return result.meta.changes === 1;
}

/**
 * The NATS user keys of revoked racks, for the account JWT's revocation list.
 *
 * @example const keys = await revokedNatsUserKeys(env.REGISTRY);
 */
export async function revokedNatsUserKeys(db: D1Database): Promise<string[]> {
  const rows = await db
    .prepare("SELECT nats_user_key FROM racks WHERE status = 'revoked' AND nats_user_key != ''")
    .all<{ nats_user_key: string }>();
  return rows.results.map((row) => row.nats_user_key);
}

/** Gives a rack its signed part of a scenario, replacing any part it had. */
export async function assignScenarioPart(
  db: D1Database,
  id: string,
  scenario: { name: string; hash: string },
  part: Uint8Array,
  now: number,
): Promise<void> {
  await db
    .prepare(
      "UPDATE racks SET scenario_name = ?, scenario_hash = ?, scenario_part = ?, scenario_assigned_at = ? WHERE id = ?",
    )
    .bind(scenario.name, scenario.hash, part, now, id)
    .run();
}

/** Every rack's id and name, and nothing else (rows carry sealed secrets of up to 512 KiB). */
export async function rackNames(db: D1Database): Promise<{ id: string; name: string }[]> {
  return (await db.prepare("SELECT id, name FROM racks").all<{ id: string; name: string }>()).results;
}
