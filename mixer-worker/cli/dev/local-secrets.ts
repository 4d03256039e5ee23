import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { LOCAL_API_TOKEN_FILE, LOCAL_BOOTSTRAP_TOKEN_FILE } from "../../../shared/cli/local-mixer-files.ts";
import { generateNatsKeys, NATS_KEYS_SECRET, type NatsKeys } from "../../../shared/nats-auth/index.ts";
import { exportPrivateJwk, generateKeyPair, SIGNING_ALGORITHM } from "../../../shared/passport/index.ts";
import { enrollmentToken } from "../keys-init.ts";

/** A secret the local mixer makes itself on first start, where production sets a Worker secret. */
export interface LocalSecretSpec {
  /** Where it is kept under the store dir, so it stays the same across restarts. */
  file: string;
  /** The variable that supplies it instead (the file is then neither read nor written). */
  env: string;
  generate: () => Promise<string>;
}

const randomToken = async () => randomBytes(32).toString("base64url");

export const API_TOKEN: LocalSecretSpec = {
  file: LOCAL_API_TOKEN_FILE,
  env: "FLUXRIG_API_TOKEN",
  generate: randomToken,
};
export const BOOTSTRAP_TOKEN: LocalSecretSpec = {
  file: LOCAL_BOOTSTRAP_TOKEN_FILE,
  env: "FLUXRIG_ENROLLMENT_BOOTSTRAP_TOKEN",
  generate: randomToken,
};

/**
 * The bus's operator, account, account signing and system account seeds (`snake.auth = "jwt"`), kept in
 * `<store.dir>/nats.keys`; production sets the `MIXER_NATS_KEYS` Worker secret instead.
 */
export const NATS_KEYS: LocalSecretSpec = {
  file: "nats.keys",
  env: NATS_KEYS_SECRET,
  generate: async () => generateNatsKeys(),
};

/**
 * The bus's enrollment credential (`snake.auth = "jwt"`): a bearer JWT, without expiry, that may only
 * request `flux.ctl.enroll`; racks present it before they hold a passport (`FLUXRIG_SNAKE_ENROLLMENT_TOKEN`).
 * Kept in `<store.dir>/enrollment-token`.
 */
export function enrollmentTokenSecret(keys: NatsKeys): LocalSecretSpec {
  return {
    file: "enrollment-token",
    env: "FLUXRIG_SNAKE_ENROLLMENT_TOKEN",
    generate: () => enrollmentToken(keys),
  };
}

/** The cluster key that signs passports, as a private Ed25519 JWK, kept in `store.cluster_key_file`. */
export function clusterKeySecret(file: string): LocalSecretSpec {
  return {
    file,
    env: "MIXER_CLUSTER_KEY",
    generate: async () =>
      JSON.stringify(await exportPrivateJwk((await generateKeyPair(SIGNING_ALGORITHM)).privateKey)),
  };
}

/**
 * A local secret: from its variable when set, else from its file under the store dir, else generated and
 * written there (mode 0600). Only a missing file counts as "not made yet": a file that cannot be read is an
 * error, never silently replaced (a replaced cluster key would orphan every rack that pinned the old one).
 *
 * @example const { value, source } = await localSecret("./data", API_TOKEN, process.env);
 */
export async function localSecret(
  storeDir: string,
  spec: LocalSecretSpec,
  env: Record<string, string | undefined>,
): Promise<{ value: string; source: string }> {
  const given = env[spec.env];
  if (given) return { value: given, source: `env ${spec.env}` };
  const path = join(storeDir, spec.file);
  const existing = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw new Error(`cannot read ${path}: ${error.message}`);
  });
  if (existing.trim()) return { value: existing.trim(), source: path };
  const value = await spec.generate();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${value}\n`, { mode: 0o600 });
  return { value, source: `${path} (generated)` };
}
