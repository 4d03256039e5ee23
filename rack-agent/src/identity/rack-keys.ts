import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  exportPrivateJwk,
  generateKeyPair,
  importPrivateJwk,
  type KeyPair,
  keyFingerprint,
  SEALING_ALGORITHM,
  SIGNING_ALGORITHM,
} from "../../../shared/passport/index.ts";
import { writeDurably } from "../fs/write-durably.ts";

/** The rack's key file under `base.state_dir`. */
export const RACK_KEY_FILE = "rack.key";

/**
 * A rack's keys: Ed25519 `identity` (signs its enrollment and heartbeats; the registry binds its name to it)
 * and X25519 `sealing` (the passport's secrets are sealed to it). `fingerprint` is the identity key's.
 */
export interface RackKeys {
  identity: KeyPair;
  sealing: KeyPair;
  fingerprint: string;
  /** Where they are kept. */
  path: string;
}

/**
 * Loads the rack's keys from `<stateDir>/rack.key`, or makes them on first boot (JSON with two private JWKs,
 * mode 0600, written atomically). The same file means the same identity across restarts; a new file is a
 * new rack to the mixer. `warn` hears about a file others can read.
 *
 * @example const keys = await loadOrCreateRackKeys(config.base.state_dir, log.warn);
 */
export async function loadOrCreateRackKeys(
  stateDir: string,
  warn: (message: string) => void,
): Promise<RackKeys> {
  const path = join(stateDir, RACK_KEY_FILE);
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new Error(`cannot read the rack key ${path}: ${error.message}`);
  });
  if (text === undefined) return createKeys(stateDir, path);
  if (((await stat(path)).mode & 0o077) !== 0) {
    warn(`the rack key ${path} is readable by other users: chmod 600 it`);
  }
  try {
    const file = JSON.parse(text) as { version?: unknown; identity?: unknown; sealing?: unknown };
    if (file.version !== 1) throw new Error(`unknown version ${JSON.stringify(file.version)}`);
    const identity = await importPrivateJwk(file.identity, SIGNING_ALGORITHM, "identity");
    const sealing = await importPrivateJwk(file.sealing, SEALING_ALGORITHM, "sealing");
    return { identity, sealing, fingerprint: await keyFingerprint(identity.publicRaw), path };
  } catch (error) {
    throw new Error(
      `${path} is not a readable rack key (${(error as Error).message}); restore it from a backup, or move it ` +
        "away to start as a new rack (the mixer will see a new identity)",
    );
  }
}

async function createKeys(stateDir: string, path: string): Promise<RackKeys> {
  const [identity, sealing] = await Promise.all([
    generateKeyPair(SIGNING_ALGORITHM),
    generateKeyPair(SEALING_ALGORITHM),
  ]);
  const file = {
    version: 1,
    identity: await exportPrivateJwk(identity.privateKey),
    sealing: await exportPrivateJwk(sealing.privateKey),
  };
  await mkdir(stateDir, { recursive: true });
  await writeDurably(stateDir, RACK_KEY_FILE, `${JSON.stringify(file)}\n`, { mode: 0o600 });
  return { identity, sealing, fingerprint: await keyFingerprint(identity.publicRaw), path };
}
