import { Hono } from "hono";
import { renderConfigJson } from "../../../shared/config/index.ts";
import { mixerConfig } from "../config.ts";
import type { MixerBindings } from "../env.ts";

/**
 * `GET /api/v1/config`: the config the running Worker loaded, in the shape of `fluxrig-mixer config show
 * --json` (secrets masked), so an operator can check that the two agree. `?sources=true` adds provenance.
 */
export const configRoute = new Hono<MixerBindings>().get("/", (c) => {
  const withSources = c.req.query("sources") === "true";
  return c.body(renderConfigJson(mixerConfig(c.env).entries, withSources), 200, {
    "content-type": "application/json",
  });
});
