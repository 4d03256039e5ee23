/**
 * The web console's pages over the query benchmark's store (10M log rows by default): each page's time as
 * the browser waits for it (the Worker renders it after calling the same API routes in process), against
 * the API call it makes, timed in the same run. Issue 14's bar: every page under 300 ms.
 *
 *   npm run bench:query -- --only console [--log-rows 10000000] [--message-rows 1000000]
 */
import { GAUGE, MIDDLE_TRACE_ID, RARE_TERM } from "./query-data.ts";

export interface PageCase {
  label: string;
  /** The console page. */
  page: string;
  /** The API call the page makes (the largest one, when it makes several). */
  api: string;
}

/** The pages an operator opens most, with the query each one runs. */
export function consolePageCases(fluxId: string | undefined): PageCase[] {
  const cases: PageCase[] = [
    { label: "Fleet", page: "/", api: "/api/v1/racks" },
    { label: "Logs, last hour", page: "/logs", api: "/api/v1/telemetry/logs?limit=200" },
    {
      label: "Logs, errors over 24h",
      page: "/logs?level=error&since=24h",
      api: "/api/v1/telemetry/logs?level=error&since=24h&limit=200",
    },
    {
      label: `Logs, q=${RARE_TERM} over 24h`,
      page: `/logs?q=${RARE_TERM}&since=24h`,
      api: `/api/v1/telemetry/logs?q=${RARE_TERM}&since=24h&limit=200`,
    },
    { label: "Metrics, the list", page: "/metrics", api: "/api/v1/telemetry/metrics" },
    {
      label: "Metrics, a gauge's chart over 24h",
      page: `/metrics?name=${GAUGE}&since=24h&interval=5m&group_by=entity_name`,
      api: `/api/v1/telemetry/metrics/${GAUGE}?since=24h&interval=5m&group_by=entity_name`,
    },
    { label: "Traces, last hour", page: "/traces", api: "/api/v1/telemetry/traces?since=1h&limit=100" },
    {
      label: "Trace waterfall (12h back)",
      page: `/traces/${MIDDLE_TRACE_ID}`,
      api: `/api/v1/telemetry/traces/${MIDDLE_TRACE_ID}?since=24h`,
    },
    { label: "Scenarios", page: "/scenarios", api: "/api/v1/scenarios" },
  ];
  if (fluxId) cases.push({ label: "Flux story", page: `/flux/${fluxId}`, api: `/api/v1/flux/${fluxId}` });
  return cases;
}

/** A console session for the mixer's API token: the cookie the sign-in form sets. */
export async function consoleCookie(apiUrl: string, token: string): Promise<string> {
  const res = await fetch(`${apiUrl}/signin`, {
    method: "POST",
    body: new URLSearchParams({ token, next: "/" }),
    redirect: "manual",
  });
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  if (res.status !== 303 || !cookie)
    throw new Error(`console sign-in answered ${res.status}, no session cookie`);
  return cookie;
}

/**
 * Times every page and its API call with `time` (p50/p95 of several runs) and prints one table: page p50,
 * API p50, the ratio (what rendering and the page's other calls add), and whether the page is under 300 ms.
 */
export async function timeConsolePages(
  mixer: { apiUrl: string; api(path: string): Promise<Response>; token: string },
  cases: PageCase[],
  time: (once: () => Promise<unknown>) => Promise<{ p50: number; p95: number }>,
): Promise<string[][]> {
  const cookie = await consoleCookie(mixer.apiUrl, mixer.token);
  const page = async (path: string) => {
    const res = await fetch(`${mixer.apiUrl}${path}`, {
      headers: { cookie },
      redirect: "manual",
      signal: AbortSignal.timeout(300_000),
    });
    const html = await res.text();
    if (res.status !== 200) throw new Error(`page ${path} answered ${res.status}`);
    return html.length;
  };
  const api = async (path: string) => {
    const res = await mixer.api(path);
    const text = await res.text();
    if (!res.ok) throw new Error(`API ${path} answered ${res.status} ${text.slice(0, 120)}`);
  };
  const rows: string[][] = [];
  for (const c of cases) {
    try {
      const rendered = await time(() => page(c.page));
      const called = await time(() => api(c.api));
      rows.push([
        c.label,
        rendered.p50.toFixed(0),
        rendered.p95.toFixed(0),
        called.p50.toFixed(0),
        `${(rendered.p50 / Math.max(called.p50, 0.1)).toFixed(2)}x`,
        rendered.p50 < 300 ? "yes" : "NO",
      ]);
      console.log(
        `  ${c.label}: page ${rendered.p50.toFixed(0)} ms, its API call ${called.p50.toFixed(0)} ms`,
      );
    } catch (error) {
      rows.push([c.label, "failed", "", "", "", (error as Error).message.slice(0, 80)]);
      console.log(`  ${c.label}: FAILED ${(error as Error).message}`);
    }
  }
  return [["page", "page p50", "p95", "API p50", "ratio", "< 300 ms"], ...rows];
}
