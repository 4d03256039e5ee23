import { Hono } from "hono";
import * as z from "zod";
import { QUERY_LIMITS, windowFields } from "../../../shared/telemetry/query-params.ts";
import { storeCompactor } from "../compactor/compactor-stub.ts";
import { mixerConfig } from "../config.ts";
import type { MixerBindings } from "../env.ts";
import { ProblemError } from "../http/problem.ts";
import { parseQuery } from "../http/query-params.ts";
import { windowOf } from "./query-page.ts";

const compactWindowSchema = z.strictObject(windowFields);

/**
 * The store's compactor (ours, beyond the reference): `GET /api/v1/telemetry/compaction` says what it does
 * (as /health's `compaction`), `POST …?since=…&until=…` (admin) queues every partition of the window for its
 * next pass, at once: for objects written before compaction was on, or put in the bucket by other means.
 * The window defaults to the last 24 hours and spans at most 7 days, as queries do.
 */
export const telemetryCompaction = new Hono<MixerBindings>()
  .get("/", async (c) => c.json(await storeCompactor(c.env).status()))
  .post("/", async (c) => {
    const window = windowOf(c, parseQuery(c, compactWindowSchema), QUERY_LIMITS.defaultListWindowMs);
    if (!mixerConfig(c.env).config.observability.embedded.compaction.enabled) {
      throw new ProblemError({
        title: "Conflict",
        status: 409,
        detail: "compaction is off (observability.embedded.compaction.enabled = false)",
      });
    }
    const compactor = storeCompactor(c.env);
    const queued = await compactor.queueWindow(window);
    return c.json(
      {
        window: { since: new Date(window.since).toISOString(), until: new Date(window.until).toISOString() },
        partitions_added: queued,
        ...(await compactor.status()),
      },
      202,
    );
  });
