import { open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";

/**
 * Writes `<dir>/<name>` atomically and durably: to `<name>.tmp`, fsync, rename over the old file, fsync the
 * directory. A crash leaves the old file or the new one, never a torn one; a leftover `.tmp` is the only
 * trace. `mode` applies to the new file (e.g. 0o600 for keys and passports).
 *
 * @example await writeDurably(stateDir, "rack.flux", bytes, { mode: 0o600 });
 */
export async function writeDurably(
  dir: string,
  name: string,
  body: Uint8Array | string,
  options: { mode?: number } = {},
): Promise<void> {
  await writeSynced(join(dir, `${name}.tmp`), body, options.mode ?? 0o666);
  await rename(join(dir, `${name}.tmp`), join(dir, name));
  await syncDirectory(dir);
}

/**
 * Writes several new files into `dir` as {@link writeDurably} does one, but as a group: every file written and
 * fsynced at once (the file system commits them together, so a group costs about one fsync's wait, not one per
 * file), renamed, then the directory fsynced once. Resolves with each file's failure, or undefined, in order; a
 * file that failed leaves nothing behind, not even its `.tmp`.
 *
 * @example const failures = await writeAllDurably(spoolDir, [{ name: "a.cbor", body }, { name: "b.cbor", body }]);
 */
export async function writeAllDurably(
  dir: string,
  files: readonly { name: string; body: Uint8Array }[],
): Promise<(Error | undefined)[]> {
  const failures = await Promise.all(
    files.map(async ({ name, body }) => {
      const temp = join(dir, `${name}.tmp`);
      try {
        await writeSynced(temp, body, 0o666);
        await rename(temp, join(dir, name));
        return undefined;
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        return error as Error;
      }
    }),
  );
  if (failures.every((failure) => failure !== undefined)) return failures;
  try {
    await syncDirectory(dir);
    return failures;
  } catch (error) {
    // The renames may not survive a crash: take them back rather than count on them.
    await Promise.all(
      files.map(({ name }, i) => (failures[i] ? undefined : unlink(join(dir, name)).catch(() => undefined))),
    );
    return files.map(() => error as Error);
  }
}

async function writeSynced(path: string, body: Uint8Array | string, mode: number): Promise<void> {
  const file = await open(path, "w", mode);
  try {
    await file.writeFile(body);
    await file.sync();
  } finally {
    await file.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const directory = await open(dir, "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
