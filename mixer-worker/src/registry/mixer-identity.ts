import { uuidv7 } from "../../../shared/random/uuidv7.ts";

const SELECT = "SELECT id FROM mixer_identity WHERE singleton = 1";

/**
 * The mixer's id: a UUID v7 made on first boot and kept in the registry, so it survives restarts.
 * Concurrent first boots agree: the insert is ignored when a row exists, and everyone reads the row back.
 *
 * @example const id = await mixerId(env.REGISTRY);
 */
export async function mixerId(db: D1Database): Promise<string> {
  const existing = await db.prepare(SELECT).first<{ id: string }>();
  if (existing) return existing.id;
  await db
    .prepare("INSERT OR IGNORE INTO mixer_identity (singleton, id, created_at) VALUES (1, ?, ?)")
    .bind(uuidv7(), new Date().toISOString())
    .run();
  const row = await db.prepare(SELECT).first<{ id: string }>();
  return (row as { id: string }).id;
}
