import { Hono } from "hono";
import * as z from "zod";
import { renderConfigJson } from "../../../shared/config/index.ts";
import { mixerConfig } from "../config.ts";
import type { MixerBindings } from "../env.ts";
import { parseQuery } from "../http/query-params.ts";

const configQuerySchema = z.strictObject({
  sources: z.enum(["true", "false"]).optional().describe("true or false (default false)"),
});

/**
 * `GET /api/v1/config`: the config the running Worker loaded, in the shape of `fluxrig-mixer config show
 * --json` (secrets masked), so an operator can check that the two agree. `?sources=true` adds provenance.
 */
export const configRoute = new Hono<MixerBindings>().get("/", (c) => {
  const { sources } = parseQuery(c, configQuerySchema);
  return c.body(renderConfigJson(mixerConfig(c.env).entries, sources === "true"), 200, {
    "content-type": "application/json",
  });
});
