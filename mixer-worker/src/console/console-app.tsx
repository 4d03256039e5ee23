import { type Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import type { FluxAnswer } from "../../../shared/journal/query-results.ts";
import type { Scenario } from "../../../shared/scenario/index.ts";
import type {
  LogsAnswer,
  MetricsAnswer,
  TraceAnswer,
  TracesAnswer,
} from "../../../shared/telemetry/query-results.ts";
import { type BootstrapToken, tokenCaller } from "../auth/api-auth.ts";
import { type ConsoleSession, endSession, readSession, startSession } from "../auth/console-session.ts";
import type { MixerBindings } from "../env.ts";
import { constantTimeEqual } from "../http/constant-time.ts";
import type { RackView } from "../registry/rack-view.ts";
import type { Convergence } from "../scenarios/convergence.ts";
import { CONSOLE_ASSETS } from "./assets.ts";
import { type ApiFetch, consoleApi } from "./console-api.ts";
import { FleetPage } from "./pages/fleet.tsx";
import { FluxPage } from "./pages/flux.tsx";
import { Layout, Problem } from "./pages/layout.tsx";
import { LogRows } from "./pages/log-table.tsx";
import { LOG_FILTERS, type LogFilters, LogsPage } from "./pages/logs.tsx";
import { METRIC_FILTERS, type MetricFilters, MetricsPage } from "./pages/metrics.tsx";
import { HEARTBEAT_HISTORY, HEARTBEAT_METRIC, RackPage } from "./pages/rack.tsx";
import { ConvergenceTable, ScenarioPage, ScenariosPage } from "./pages/scenarios.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
import { TracePage, TracesPage } from "./pages/traces.tsx";

type ConsoleEnv = MixerBindings & { Variables: { session: ConsoleSession } };
type ConsoleContext = Context<ConsoleEnv>;

/** The console's paths: its security headers go on these only, never on the API's answers. */
const CONSOLE_PATHS = [
  "/",
  "/signin",
  "/signout",
  "/assets/*",
  "/racks/*",
  "/scenarios",
  "/scenarios/*",
  "/logs",
  "/metrics",
  "/traces",
  "/traces/*",
  "/flux",
  "/flux/*",
];

/**
 * Only the browser's own origin may frame, script or post: the console runs no inline script and loads
 * nothing from elsewhere (it works on an isolated management network).
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

const pick = <K extends string>(c: Context, keys: readonly K[]) =>
  Object.fromEntries(keys.map((key) => [key, c.req.query(key) || undefined]).filter(([, v]) => v)) as Partial<
    Record<K, string>
  >;

/** Only a path on this site may follow a sign-in: never another origin (open redirect). */
const localPath = z
  .string()
  .regex(/^\/(?!\/)[^\\\s]*$/)
  .catch("/");

/**
 * The web console, served by the Worker at `/`: server-rendered pages (Hono JSX) over the same API the CLI
 * uses, called in process as the signed-in user so the API's scope checks decide what each page may show
 * and do. Sign-in exchanges an API token for a sealed session cookie; actions are CSRF-checked forms.
 *
 * @example app.route("/", consoleApp(bootstrap, (request, c) => app.fetch(request, c.env, c.executionCtx)));
 */
export function consoleApp(bootstrap: BootstrapToken, apiFetch: ApiFetch) {
  const app = new Hono<ConsoleEnv>();
  const api = (c: ConsoleContext) => consoleApi(c, apiFetch, c.get("session"));

  // Path by path, not "*": mounted at "/", a catch-all would also wrap the API's answers.
  for (const path of CONSOLE_PATHS) {
    app.use(path, async (c, next) => {
      await next();
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
    });
  }

  app.get("/assets/:file", (c) => {
    const asset = CONSOLE_ASSETS[c.req.param("file")];
    if (!asset) return c.notFound();
    return c.body(asset.body, 200, { "content-type": asset.type, "cache-control": "public, max-age=300" });
  });

  app.get("/signin", (c) => c.html(<SignInPage next={localPath.parse(c.req.query("next"))} />));
  app.post("/signin", async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === "string" ? form.token.trim() : "";
    const next = localPath.parse(form.next);
    try {
      const { credential } = await tokenCaller(c, token, bootstrap(c.env));
      await startSession(c, credential, Date.now());
      return c.redirect(next, 303);
    } catch {
      return c.html(
        <SignInPage error="That token is not valid (unknown, expired or revoked)." next={next} />,
        401,
      );
    }
  });

  // Every other page needs a session; without one the browser goes to sign-in and comes back.
  const signedIn = createMiddleware<ConsoleEnv>(async (c, next) => {
    const session = await readSession(c, bootstrap(c.env), Date.now());
    if (!session) {
      if (c.req.method !== "GET") return c.text("sign in first", 401);
      return c.redirect(`/signin?next=${encodeURIComponent(c.req.path)}`, 303);
    }
    c.set("session", session);
    if (c.req.method === "POST") {
      const form = await c.req.parseBody();
      if (!(await constantTimeEqual(typeof form.csrf === "string" ? form.csrf : "", session.csrf))) {
        return c.text("this form is stale or was not made by the console: reload the page", 403);
      }
    }
    await next();
  });

  app.post("/signout", signedIn, (c) => {
    endSession(c);
    return c.redirect("/signin", 303);
  });

  app.get("/", signedIn, async (c) =>
    c.html(
      <FleetPage
        session={c.get("session")}
        racks={await api(c).get<{ racks: RackView[] }>("/racks")}
        now={Date.now()}
      />,
    ),
  );

  app.get("/racks/:id", signedIn, async (c) => {
    const id = c.req.param("id");
    const rack = await api(c).get<RackView>(`/racks/${encodeURIComponent(id)}`);
    const entity = rack.ok ? rack.data.name : id;
    const [logs, errors, heartbeats] = await Promise.all([
      api(c).get<LogsAnswer>("/telemetry/logs", { entity, since: "1h", limit: "20" }),
      api(c).get<LogsAnswer>("/telemetry/logs", { entity, since: "1h", level: "error", limit: "1000" }),
      api(c).get<MetricsAnswer>(`/telemetry/metrics/${HEARTBEAT_METRIC}`, HEARTBEAT_HISTORY(entity)),
    ]);
    return c.html(
      <RackPage
        session={c.get("session")}
        rack={rack}
        logs={logs}
        errors={errors}
        heartbeats={heartbeats}
        now={Date.now()}
      />,
    );
  });

  app.post("/racks/:id/:action", signedIn, async (c) => {
    const { id, action } = c.req.param();
    const done = await api(c).post(`/racks/${encodeURIComponent(id)}/${encodeURIComponent(action)}`);
    if (!done.ok)
      return c.html(
        <Layout title="Action refused" session={c.get("session")}>
          <Problem result={done} />
        </Layout>,
        done.status as 400,
      );
    return c.redirect(c.req.header("referer")?.includes(`/racks/${id}`) ? `/racks/${id}` : "/", 303);
  });

  app.get("/scenarios", signedIn, async (c) =>
    c.html(<ScenariosPage session={c.get("session")} scenarios={await api(c).get("/scenarios")} />),
  );

  app.get("/scenarios/:name", signedIn, async (c) => {
    const name = c.req.param("name");
    const path = `/scenarios/${encodeURIComponent(name)}`;
    const [scenario, status] = await Promise.all([
      api(c).get<{ name: string; version: string; description: string | null; scenario: Scenario }>(path, {
        version: c.req.query("version"),
      }),
      api(c).get<Convergence & { activated_at: string }>(`${path}/status`),
    ]);
    return c.html(
      <ScenarioPage session={c.get("session")} name={name} scenario={scenario} status={status} />,
    );
  });

  // The convergence table alone, for the client to refresh while an activation settles.
  app.get("/scenarios/:name/convergence", signedIn, async (c) => {
    const status = await api(c).get<Convergence & { activated_at: string }>(
      `/scenarios/${encodeURIComponent(c.req.param("name"))}/status`,
    );
    return c.html(status.ok ? <ConvergenceTable status={status.data} /> : <Problem result={status} />);
  });

  app.post("/scenarios/:name/activate", signedIn, async (c) => {
    const name = c.req.param("name");
    const done = await api(c).post(`/scenarios/${encodeURIComponent(name)}/activate`, {
      version: c.req.query("version"),
      wait: "false",
    });
    if (!done.ok)
      return c.html(
        <Layout title="Activation refused" session={c.get("session")}>
          <Problem result={done} />
        </Layout>,
        done.status as 400,
      );
    return c.redirect(`/scenarios/${encodeURIComponent(name)}`, 303);
  });

  app.get("/logs", signedIn, async (c) => {
    const filters: LogFilters = { limit: "200", ...pick(c, LOG_FILTERS) };
    const logs = await api(c).get<LogsAnswer>("/telemetry/logs", filters);
    // The rows alone, for the live tail.
    if (c.req.query("rows")) return c.html(logs.ok ? <LogRows logs={logs.data.logs} /> : "");
    return c.html(<LogsPage session={c.get("session")} filters={filters} logs={logs} />);
  });

  app.get("/metrics", signedIn, async (c) => {
    const filters: MetricFilters = pick(c, METRIC_FILTERS);
    const { name, ...query } = filters;
    const metrics = await api(c).get<MetricsAnswer>(
      name ? `/telemetry/metrics/${encodeURIComponent(name)}` : "/telemetry/metrics",
      query,
    );
    return c.html(<MetricsPage session={c.get("session")} filters={filters} metrics={metrics} />);
  });

  app.get("/traces", signedIn, async (c) => {
    const since = c.req.query("since") || "1h";
    const traces = await api(c).get<TracesAnswer>("/telemetry/traces", { since, limit: "100" });
    return c.html(<TracesPage session={c.get("session")} since={since} traces={traces} />);
  });

  app.get("/traces/:trace_id", signedIn, async (c) => {
    const traceId = c.req.param("trace_id");
    const trace = await api(c).get<TraceAnswer>(`/telemetry/traces/${encodeURIComponent(traceId)}`, {
      since: c.req.query("since") || "24h",
    });
    return c.html(<TracePage session={c.get("session")} traceId={traceId} trace={trace} />);
  });

  app.get("/flux", signedIn, (c) => {
    const id = c.req.query("id")?.trim();
    if (id) return c.redirect(`/flux/${encodeURIComponent(id)}`, 303);
    return c.html(<FluxPage session={c.get("session")} />);
  });

  app.get("/flux/:flux_id", signedIn, async (c) => {
    const fluxId = c.req.param("flux_id");
    const flux = await api(c).get<FluxAnswer>(`/flux/${encodeURIComponent(fluxId)}`);
    return c.html(<FluxPage session={c.get("session")} fluxId={fluxId} flux={flux} />);
  });

  return app;
}
