import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { createUser, fromSeed, type KeyPair } from "@nats-io/nkeys";
import { writeDurably } from "../fs/write-durably.ts";

/** The rack's NATS user nkey seed, beside its identity key under `base.state_dir`. */
export const BUS_KEY_FILE = "rack.nkey";

/**
 * The rack's own NATS user nkey (`U…`): made on first start (the seed in `<stateDir>/rack.nkey`, mode 0600,
 * never sent anywhere), its public half sent at enrollment so the mixer issues the rack's bus JWTs for it.
 * `warn` hears about a file others can read.
 *
 * @example const busKey = await loadOrCreateBusKey(config.base.state_dir, log.warn);
 */
export async function loadOrCreateBusKey(
  stateDir: string,
  warn: (message: string) => void,
): Promise<KeyPair> {
  const path = join(stateDir, BUS_KEY_FILE);
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new Error(`cannot read the rack's bus key ${path}: ${error.message}`);
  });
  if (text === undefined) {
    const user = createUser();
    await writeDurably(stateDir, BUS_KEY_FILE, `${new TextDecoder().decode(user.getSeed())}\n`, {
      mode: 0o600,
    });
    return user;
  }
  if (((await stat(path)).mode & 0o077) !== 0)
    warn(`the rack's bus key ${path} is readable by other users: chmod 600 it`);
  try {
    const user = fromSeed(new TextEncoder().encode(text.trim()));
    if (!user.getPublicKey().startsWith("U")) throw new Error("not a user seed");
    return user;
  } catch (error) {
    throw new Error(
      `${path} is not a NATS user seed (${(error as Error).message}); move it away and the rack makes a new one (it then needs new bus credentials: enroll again)`,
    );
  }
}
