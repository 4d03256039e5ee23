import { Hono } from "hono";
import { toBase64Url } from "../../../shared/passport/index.ts";
import type { MixerBindings } from "../env.ts";
import { clusterKey } from "../registry/cluster-key.ts";
import { mixerId } from "../registry/mixer-identity.ts";

/**
 * `GET /api/v1/cluster-key`, unauthenticated: the public half of the key that signs passports and its
 * fingerprint, which an operator pins in `rack.cluster_key_fingerprint` before a rack first enrolls.
 */
export const clusterKeyRoute = new Hono<MixerBindings>().get("/", async (c) => {
  const [key, id] = await Promise.all([clusterKey(c.env), mixerId(c.env.REGISTRY)]);
  return c.json({
    mixer_id: id,
    algorithm: "Ed25519",
    public_key: toBase64Url(key.publicRaw),
    fingerprint: key.fingerprint,
  });
});
