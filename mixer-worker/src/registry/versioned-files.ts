/**
 * YAML files kept in D1 by a key and a version, as imported and in normal form (scenarios by name, specs by
 * id): one piece for both tables, since versions behave alike (immutable; the same content again changes
 * nothing; "latest" is the last imported).
 */

export type ImportOutcome = "created" | "unchanged" | "conflict";

/** The columns every such table has besides its key. */
export interface VersionedFile {
  version: string;
  hash: string;
  description: string;
  yaml: string;
  normal: string;
  imported_at: number;
}

/**
 * The reads and writes of one table, `table` keyed by `key` and `version`.
 *
 * @example const specFiles = versionedFiles<SpecRow>("specs", "id");
 */
export function versionedFiles<Row extends VersionedFile>(table: "scenarios" | "specs", key: "name" | "id") {
  const summary = `${key}, version, hash, description, imported_at`;
  const files = {
    /** Stores a file; other content under an existing key and version is a conflict. */
    async insert(db: D1Database, keyValue: string, file: VersionedFile): Promise<ImportOutcome> {
      const inserted = await db
        .prepare(
          `INSERT OR IGNORE INTO ${table} (${key}, version, hash, description, yaml, normal, imported_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .bind(keyValue, file.version, file.hash, file.description, file.yaml, file.normal, file.imported_at)
        .run();
      if (inserted.meta.changes === 1) return "created";
      const existing = await files.find(db, keyValue, file.version);
      return existing?.hash === file.hash ? "unchanged" : "conflict";
    },
    /** A file by key, at `version` or else the one imported last. */
    find(db: D1Database, keyValue: string, version?: string): Promise<Row | null> {
      return version === undefined
        ? db
            .prepare(
              `SELECT * FROM ${table} WHERE ${key} = ? ORDER BY imported_at DESC, version DESC LIMIT 1`,
            )
            .bind(keyValue)
            .first<Row>()
        : db
            .prepare(`SELECT * FROM ${table} WHERE ${key} = ? AND version = ?`)
            .bind(keyValue, version)
            .first<Row>();
    },
    /** Every version of every file (or of one key), newest import first, without the file texts. */
    async list(db: D1Database, keyValue?: string): Promise<Omit<Row, "yaml" | "normal">[]> {
      const query = keyValue
        ? db
            .prepare(`SELECT ${summary} FROM ${table} WHERE ${key} = ? ORDER BY imported_at DESC`)
            .bind(keyValue)
        : db.prepare(`SELECT ${summary} FROM ${table} ORDER BY ${key}, imported_at DESC`);
      return (await query.all<Omit<Row, "yaml" | "normal">>()).results;
    },
  };
  return files;
}
