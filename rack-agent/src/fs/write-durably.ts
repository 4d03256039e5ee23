import { open, rename } from "node:fs/promises";
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
  const temp = join(dir, `${name}.tmp`);
  const file = await open(temp, "w", options.mode ?? 0o666);
  try {
    await file.writeFile(body);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, join(dir, name));
  const directory = await open(dir, "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
