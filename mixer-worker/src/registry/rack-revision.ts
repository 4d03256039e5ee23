import { ProblemError } from "../http/problem.ts";
import type { RackRow } from "./rack-row.ts";
import { findRack } from "./racks.ts";

/**
 * How many reads a change to one rack gets before it gives up. Each round of racing writers lets one of them
 * land (the row moves on only when one wins), so this many concurrent writers all get through.
 */
export const REVISION_ATTEMPTS = 8;

/**
 * A read-modify-write of one rack row against concurrent ones (optimistic concurrency on `revision`).
 * `change` gets the row as read and writes only `WHERE revision = <the one it read>`; it resolves `undefined`
 * when that write changed nothing (the row moved meanwhile), and is then run again on a fresh read. The first
 * round uses `rack`, the row the caller already holds. Throws a 409 problem when every attempt lost.
 *
 * @example await changeRack(db, rack, async (row) => (await updateSecrets(db, row.id, row.revision, bytes)) || undefined);
 */
export async function changeRack<T>(
  db: D1Database,
  rack: RackRow,
  change: (row: RackRow) => Promise<T | undefined>,
): Promise<T> {
  let row = rack;
  for (let attempt = 1; ; attempt++) {
    const result = await change(row);
    if (result !== undefined) return result;
    if (attempt === REVISION_ATTEMPTS) break;
    const fresh = await findRack(db, "id", rack.id);
    if (!fresh) throw new Error(`rack ${rack.id} disappeared from the registry`);
    row = fresh;
  }
  throw new ProblemError({
    title: "Conflict",
    status: 409,
    detail: `rack ${rack.name} (${rack.id}) changed ${REVISION_ATTEMPTS} times while this change was being made; retry`,
  });
}
