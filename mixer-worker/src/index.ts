import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { apiAuth, type BootstrapToken } from "./auth/api-auth.ts";
import { snakeBridge } from "./bridge/bridge-stub.ts";
import { mixerConfig } from "./config.ts";
import { consoleApp } from "./console/console-app.tsx";
import type { MixerBindings, MixerEnv } from "./env.ts";
import { allowedMethods } from "./http/allowed-methods.ts";
import { ProblemError, problemResponse } from "./http/problem.ts";
import { clusterKeyRoute } from "./routes/cluster-key.ts";
import { configRoute } from "./routes/config.ts";
import { health } from "./routes/health.ts";
import { flux, messages } from "./routes/messages.ts";
import { racks } from "./routes/racks.ts";
import { scenarios } from "./routes/scenarios.ts";
import { specs } from "./routes/specs.ts";
import { telemetryCompaction } from "./routes/telemetry-compaction.ts";
import { telemetryFiles } from "./routes/telemetry-files.ts";
import { telemetryQueries } from "./routes/telemetry-query.ts";
import { tokens } from "./routes/tokens.ts";
import { apiUsage, selfLog } from "./self/api-usage.ts";

export { SnakeBridge } from "./bridge/snake-bridge.ts";
export { StoreCompactor } from "./compactor/store-compactor.ts";

/** The bootstrap admin token, `api.token` (FLUXRIG_API_TOKEN), read per request. */
const bootstrapToken: BootstrapToken = (env) => mixerConfig(env).config.api.token;

/** The mixer Worker: the control plane's HTTP API, one sub-app per resource, and the web console. */
const app = new Hono<MixerBindings>();

// First, so every answer (401, 403, 404, 5xx included) is counted in the mixer's own API metrics.
app.use("*", apiUsage());
app.route("/health", health);
// Public on purpose, and so routed before the bearer check: operators pin the key it shows.
app.route("/api/v1/cluster-key", clusterKeyRoute);
// Every other API call needs a token whose scope covers it (auth/route-scopes.ts: unlisted means admin).
app.use("/api/*", apiAuth(bootstrapToken));
app.route("/api/v1/telemetry/files", telemetryFiles);
app.route("/api/v1/telemetry/compaction", telemetryCompaction);
app.route("/api/v1/telemetry", telemetryQueries);
app.route("/api/v1/messages", messages);
app.route("/api/v1/flux", flux);
app.route("/api/v1/config", configRoute);
app.route("/api/v1/racks", racks);
app.route("/api/v1/scenarios", scenarios);
app.route("/api/v1/specs", specs);
app.route("/api/v1/tokens", tokens);
// The web console at `/`: its pages call the routes above in process, as the signed-in user.
app.route(
  "/",
  consoleApp(bootstrapToken, async (request, env, ctx) => app.fetch(request, env, ctx)),
);

app.notFound((c) => {
  const allowed = allowedMethods(app.routes, c.req.path);
  // A route that exists for this method but found nothing (an unknown asset) is a 404, not a 405.
  if (allowed.length > 0 && !allowed.includes(c.req.method)) {
    return problemResponse(
      c,
      {
        title: "Method Not Allowed",
        status: 405,
        detail: `${c.req.path} answers ${allowed.join(", ")}, not ${c.req.method}`,
      },
      { allow: allowed.join(", ") },
    );
  }
  return problemResponse(c, {
    title: "Not Found",
    status: 404,
    detail: `no route for ${c.req.method} ${c.req.path}`,
  });
});
app.onError((error, c) => {
  if (error instanceof ProblemError) return problemResponse(c, error.problem, error.headers);
  if (error instanceof HTTPException)
    return problemResponse(c, { title: error.message || "Error", status: error.status });
  // The cause goes to the log under an id; the response carries only the id (no internals, no secrets).
  const errorId = crypto.randomUUID();
  selfLog(
    c,
    "error",
    `error ${errorId} on ${c.req.method} ${c.req.path.slice(0, 200)}: ${error.stack ?? error.message}`,
    {
      error_id: errorId,
    },
  );
  return problemResponse(c, {
    title: "Internal Server Error",
    status: 500,
    detail: `an internal error occurred; the mixer's log has it under ${errorId}`,
    error_id: errorId,
  });
});

export default {
  fetch: app.fetch,
  /** Cron: wakes the Snake bridge, whose alarm then pumps, flushes and applies retention. */
  async scheduled(_controller: ScheduledController, env: MixerEnv): Promise<void> {
    await snakeBridge(env).status();
  },
} satisfies ExportedHandler<MixerEnv>;
