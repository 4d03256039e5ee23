import {
  importPrivateJwk,
  type KeyPair,
  keyFingerprint,
  SIGNING_ALGORITHM,
} from "../../../shared/passport/index.ts";
import type { MixerEnv } from "../env.ts";
import { ProblemError } from "../http/problem.ts";

/** The mixer's Ed25519 cluster key, which signs every passport, with its fingerprint for pinning. */
export interface ClusterKey extends KeyPair {
  fingerprint: string;
}

let cached: { text: string; key: Promise<ClusterKey> } | undefined;

/**
 * The cluster key from the MIXER_CLUSTER_KEY secret (a private JWK; `fluxrig-mixer dev` generates it under
 * `store.dir`/`store.cluster_key_file`, production sets it with `wrangler secret put`). Imported once per
 * isolate; a failed import is not cached, so a fixed secret takes effect without a restart.
 *
 * @example const { privateKey, fingerprint } = await clusterKey(env);
 */
export function clusterKey(env: MixerEnv): Promise<ClusterKey> {
  const text = typeof env.MIXER_CLUSTER_KEY === "string" ? env.MIXER_CLUSTER_KEY.trim() : "";
  if (!text) {
    return Promise.reject(
      new ProblemError({
        title: "Cluster key not configured",
        status: 503,
        detail:
          "the mixer has no cluster key: set the MIXER_CLUSTER_KEY secret (fluxrig-mixer dev makes one under store.dir)",
      }),
    );
  }
  if (cached?.text !== text) {
    const key = load(text);
    cached = { text, key };
    key.catch(() => {
      if (cached?.key === key) cached = undefined;
    });
  }
  return cached.key;
}

async function load(text: string): Promise<ClusterKey> {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new Error("MIXER_CLUSTER_KEY is not JSON: expected the private JWK that fluxrig-mixer dev writes");
  }
  const pair = await importPrivateJwk(jwk, SIGNING_ALGORITHM, "MIXER_CLUSTER_KEY");
  return { ...pair, fingerprint: await keyFingerprint(pair.publicRaw) };
}
