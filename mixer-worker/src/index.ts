import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { snakeBridge } from "./bridge/bridge-stub.ts";
import { mixerConfig } from "./config.ts";
import type { MixerBindings, MixerEnv } from "./env.ts";
import { bearerAuth } from "./http/bearer-auth.ts";
import { ProblemError, problemResponse } from "./http/problem.ts";
import { clusterKeyRoute } from "./routes/cluster-key.ts";
import { configRoute } from "./routes/config.ts";
import { health } from "./routes/health.ts";
import { flux, messages } from "./routes/messages.ts";
import { racks } from "./routes/racks.ts";
import { scenarios } from "./routes/scenarios.ts";
import { telemetryFiles } from "./routes/telemetry-files.ts";
import { telemetryQueries } from "./routes/telemetry-query.ts";

export { SnakeBridge } from "./bridge/snake-bridge.ts";

/** The mixer Worker: the control plane's HTTP API, one sub-app per resource. */
const app = new Hono<MixerBindings>();

app.route("/health", health);
// Public on purpose, and so routed before the bearer check: operators pin the key it shows.
app.route("/api/v1/cluster-key", clusterKeyRoute);
app.use(
  "/api/*",
  bearerAuth<MixerBindings>((c) => mixerConfig(c.env).config.api.token),
);
app.route("/api/v1/telemetry/files", telemetryFiles);
app.route("/api/v1/telemetry", telemetryQueries);
app.route("/api/v1/messages", messages);
app.route("/api/v1/flux", flux);
app.route("/api/v1/config", configRoute);
app.route("/api/v1/racks", racks);
app.route("/api/v1/scenarios", scenarios);

app.notFound((c) =>
  problemResponse(c, {
    title: "Not Found",
    status: 404,
    detail: `no route for ${c.req.method} ${c.req.path}`,
  }),
);
app.onError((error, c) => {
  if (error instanceof ProblemError) return problemResponse(c, error.problem, error.headers);
  if (error instanceof HTTPException)
    return problemResponse(c, { title: error.message || "Error", status: error.status });
  // The cause goes to the log under an id; the response carries only the id (no internals, no secrets).
  const errorId = crypto.randomUUID();
  console.error(`mixer: error ${errorId} on ${c.req.method} ${c.req.path}: ${error.stack ?? error.message}`);
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
