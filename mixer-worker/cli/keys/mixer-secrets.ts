import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createUser } from "@nats-io/nkeys";
import { LOCAL_API_TOKEN_FILE, LOCAL_BOOTSTRAP_TOKEN_FILE } from "../../../shared/cli/local-mixer-files.ts";
import type { MixerConfig } from "../../../shared/config/index.ts";
import {
  enrollmentPermissions,
  generateNatsKeys,
  NATS_KEYS_SECRET,
  type NatsKeys,
  userJwt,
} from "../../../shared/nats-auth/index.ts";
import {
  exportPrivateJwk,
  generateKeyPair,
  importPrivateJwk,
  keyFingerprint,
  SIGNING_ALGORITHM,
} from "../../../shared/passport/index.ts";

/**
 * A secret the mixer needs: a Worker secret in production, made by `fluxrig-mixer keys init` (and by
 * `fluxrig-mixer dev` on first start) into a file, uploaded by `fluxrig-mixer deploy` when the Worker lacks it.
 */
export interface MixerSecret {
  /** The Worker secret's name, and the variable that supplies it instead of the file. */
  env: string;
  /** Where it is kept under a keys dir (the store dir for dev), so it stays the same across runs. */
  file: string;
  /** What it is, for `keys init` and the deploy plan. */
  description: string;
  generate: () => Promise<string>;
}

const randomToken = async () => randomBytes(32).toString("base64url");

export const API_TOKEN: MixerSecret = {
  file: LOCAL_API_TOKEN_FILE,
  env: "FLUXRIG_API_TOKEN",
  description: "the API bootstrap admin token, api.token",
  generate: randomToken,
};
export const BOOTSTRAP_TOKEN: MixerSecret = {
  file: LOCAL_BOOTSTRAP_TOKEN_FILE,
  env: "FLUXRIG_ENROLLMENT_BOOTSTRAP_TOKEN",
  description: "what racks present to enroll, rack.bootstrap_token",
  generate: randomToken,
};

/**
 * The bus's operator, account, account signing and system account seeds (`snake.auth = "jwt"`), kept in
 * `nats.keys`; production sets the `MIXER_NATS_KEYS` Worker secret.
 */
export const NATS_KEYS: MixerSecret = {
  file: "nats.keys",
  env: NATS_KEYS_SECRET,
  description: 'NATS operator and account signing keys, for snake.auth = "jwt"',
  generate: async () => generateNatsKeys(),
};

/**
 * The bus's enrollment credential (`snake.auth = "jwt"`): a bearer JWT, without expiry, that may only
 * request `flux.ctl.enroll`; racks present it before they hold a passport (`FLUXRIG_SNAKE_ENROLLMENT_TOKEN`).
 */
export function enrollmentTokenSecret(keys: NatsKeys): MixerSecret {
  return {
    file: "enrollment-token",
    env: "FLUXRIG_SNAKE_ENROLLMENT_TOKEN",
    description: "what racks present to the bus before they hold a passport",
    generate: () =>
      userJwt(keys, createUser().getPublicKey(), {
        name: "enrollment",
        permissions: enrollmentPermissions(),
        bearer: true,
      }),
  };
}

/** The cluster key that signs passports, as a private Ed25519 JWK, kept in `store.cluster_key_file`. */
export function clusterKeySecret(file: string): MixerSecret {
  return {
    file,
    env: "MIXER_CLUSTER_KEY",
    description: "Ed25519 cluster key: signs passports and scenario parts, racks pin it",
    generate: async () =>
      JSON.stringify(await exportPrivateJwk((await generateKeyPair(SIGNING_ALGORITHM)).privateKey)),
  };
}

/**
 * The fingerprint racks pin (`rack.cluster_key_fingerprint`) of a cluster key secret; `source` names it in
 * errors (never its value).
 */
export async function clusterKeyFingerprint(value: string, source: string): Promise<string> {
  let jwk: JsonWebKey;
  try {
    jwk = JSON.parse(value) as JsonWebKey;
  } catch {
    throw new Error(`${source}: the cluster key is not a JSON Web Key`);
  }
  return keyFingerprint((await importPrivateJwk(jwk, SIGNING_ALGORITHM, source)).publicRaw);
}

/**
 * Every secret the mixer Worker reads, in the order `keys init` makes them. One list for dev, `keys init` and
 * `deploy`: a new secret (e.g. NATS operator and account signing keys) is one more entry here.
 *
 * @example for (const secret of mixerSecrets(config)) await localSecret("./keys", secret, {});
 */
export function mixerSecrets(config: Pick<MixerConfig, "store" | "snake">): MixerSecret[] {
  return [
    clusterKeySecret(config.store.cluster_key_file),
    API_TOKEN,
    BOOTSTRAP_TOKEN,
    ...(config.snake.auth === "jwt" ? [NATS_KEYS] : []),
  ];
}

/** Where a secret would come from, without making it: its variable, its file, or a new one. */
export async function secretSource(
  dir: string,
  spec: MixerSecret,
  env: Record<string, string | undefined>,
): Promise<string> {
  if (env[spec.env]) return `env ${spec.env}`;
  const path = join(dir, spec.file);
  return (await readSecretFile(path)) ? path : `${path} (to be generated)`;
}

async function readSecretFile(path: string): Promise<string> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw new Error(`cannot read ${path}: ${error.message}`);
  });
  return text.trim();
}

/**
 * A secret: from its variable when set, else from its file under `dir`, else generated and written there
 * (mode 0600). Only a missing file counts as "not made yet": a file that cannot be read is an error, never
 * silently replaced (a replaced cluster key would orphan every rack that pinned the old one).
 *
 * @example const { value, source } = await localSecret("./data", API_TOKEN, process.env);
 */
export async function localSecret(
  dir: string,
  spec: MixerSecret,
  env: Record<string, string | undefined>,
): Promise<{ value: string; source: string; generated: boolean }> {
  const given = env[spec.env];
  if (given) return { value: given, source: `env ${spec.env}`, generated: false };
  const path = join(dir, spec.file);
  const existing = await readSecretFile(path);
  if (existing) return { value: existing, source: path, generated: false };
  const value = await spec.generate();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${value}\n`, { mode: 0o600 });
  return { value, source: `${path} (generated)`, generated: true };
}
