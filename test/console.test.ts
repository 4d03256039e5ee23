import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { screenshot, startBrowser } from "./helpers/browser.ts";
import { type RunningBin, startBin } from "./helpers/run-bin.ts";
import {
  eventually,
  fluxrigCli,
  MIXER_START_MS,
  rackEnv,
  startTestMixer,
  type TestMixer,
} from "./helpers/test-mixer.ts";

const RACK = "rack-edge-01"; // the rack examples/scenarios/visa-auth.yaml names

let mixer: TestMixer;
let dir: string;
let browser: Browser;
let admin: BrowserContext;
let page: Page;
let rack: RunningBin | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-console-"));
  [mixer, browser] = await Promise.all([
    startTestMixer({
      env: { FLUXRIG_INGEST_FLUSH_INTERVAL: "1s", FLUXRIG_MIXER_SCENARIO_WAIT_TIMEOUT: "20s" },
    }),
    startBrowser(),
  ]);
  admin = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await admin.newPage();
  page.on("dialog", (dialog) => dialog.accept());
}, MIXER_START_MS);

afterAll(async () => {
  await rack?.stop("SIGKILL");
  await browser?.close();
  await mixer?.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function signIn(on: Page, token: string): Promise<void> {
  await on.goto(`${mixer.apiUrl}/`);
  expect(new URL(on.url()).pathname).toBe("/signin");
  await on.fill('input[name="token"]', token);
  await on.click('button[type="submit"]');
  await on.waitForURL(`${mixer.apiUrl}/`);
}

/** Reloads `url` until `selector` is on the page (the console renders what the store holds at load time). */
async function reloadUntil(on: Page, url: string, selector: string, timeoutMs = 45_000): Promise<void> {
  await eventually(
    `${selector} on ${url}`,
    async () => {
      await on.goto(url);
      return (await on.locator(selector).count()) > 0 ? true : undefined;
    },
    timeoutMs,
  );
}

it("signs in with the API token: a session cookie (HttpOnly, Secure, SameSite=Strict), no token in the URL", async () => {
  await signIn(page, mixer.env.FLUXRIG_API_TOKEN as string);
  const [cookie] = await admin.cookies();
  expect(cookie).toMatchObject({ name: "fluxrig_session", httpOnly: true, secure: true, sameSite: "Strict" });
  expect(cookie?.value).not.toContain(mixer.env.FLUXRIG_API_TOKEN);
  expect(page.url()).not.toContain(mixer.env.FLUXRIG_API_TOKEN);
  expect(await page.locator("main .empty").textContent()).toContain("No rack has enrolled yet");
  // The API answers the session too (the console's own scripts use it), GETs without a CSRF header.
  const racks = await page.evaluate(async () => (await fetch("/api/v1/racks")).status);
  expect(racks).toBe(200);
});

it("a rack enrolled by a real rack process shows as pending; approving it turns it active", async () => {
  rack = startBin("fluxrig", ["run"], { env: rackEnv(mixer, dir, RACK) });
  await rack.waitFor(/waiting for adoption/, { timeoutMs: 60_000 });
  await reloadUntil(page, `${mixer.apiUrl}/`, `tr[data-rack="${RACK}"][data-status="pending"]`);
  await screenshot(page, "fleet-pending");
  await page.locator(`tr[data-rack="${RACK}"] button[data-action="approve"]`).click();
  // The form posts and comes back to the fleet page, whose row now says active.
  await page.locator(`tr[data-rack="${RACK}"][data-status="active"]`).waitFor();
  expect(new URL(page.url()).pathname).toBe("/");
  await rack.waitFor(/passport: rack \S+ is active/, { timeoutMs: 30_000 });
  await screenshot(page, "fleet");
});

it("a scenario drawn as a graph, activated from the console, converges live on the rack", async () => {
  expect((await fluxrigCli(mixer, ["spec", "import", "examples/specs/visa-v1.yaml"])).code).toBe(0);
  expect((await fluxrigCli(mixer, ["scenario", "import", "examples/scenarios/visa-auth.yaml"])).code).toBe(0);
  await page.goto(`${mixer.apiUrl}/scenarios`);
  await page.locator('a[href^="/scenarios/visa-auth"]').click();
  await page.waitForURL(/\/scenarios\/visa-auth/);
  const graph = page.locator('[data-testid="scenario-graph"]');
  await expect(graph.locator("g.gear").count()).resolves.toBe(6);
  await expect(graph.locator("g.wire").count()).resolves.toBe(5);
  expect(await page.locator("main").textContent()).toContain("Never activated");
  await page.locator('button[data-action="activate"]').click();
  // The client script polls the convergence table until it settles: no reload here.
  await page.locator('[data-testid="convergence"][data-converged="true"]').waitFor({ timeout: 45_000 });
  await expect(page.locator(`tr[data-rack="${RACK}"]`).getAttribute("data-state")).resolves.toBe("converged");
  await screenshot(page, "scenario");
});

it("the rack's page and the logs page show what the rack said, with level colours and links", async () => {
  await page.goto(`${mixer.apiUrl}/`);
  await page.locator(`tr[data-rack="${RACK}"] a`).click();
  expect(await page.locator('[data-testid="rack-status"]').textContent()).toBe("active");
  await reloadUntil(page, page.url(), '[data-testid="gears"] tr');
  // Its heartbeats, counted per 5 minutes from the metric each one sends, once the telemetry is stored.
  await reloadUntil(page, page.url(), '[data-testid="heartbeat-history"] .spark');
  expect(await page.locator('[data-testid="heartbeat-history"]').textContent()).toMatch(/[1-9]\d* received/);
  await screenshot(page, "rack");
  await reloadUntil(
    page,
    `${mixer.apiUrl}/logs?entity=${RACK}&level=warn`,
    "tbody tr.level-warn a[href^='/flux/']",
  );
  const line = await page.locator("tbody tr.level-warn td.message").first().textContent();
  expect(line).not.toMatch(/(?<!\d)411111\d{10}(?!\d)/); // the PAN stays masked on screen too
  await screenshot(page, "logs");
});

it("a trace opens as a waterfall of its spans", async () => {
  await reloadUntil(page, `${mixer.apiUrl}/traces`, '[data-testid="traces"] a[href^="/traces/"]');
  await page.locator('[data-testid="traces"] a[href^="/traces/"]').first().click();
  await page.waitForURL(/\/traces\/[^/?]+/);
  await screenshot(page, "trace");
  const bars = page.locator('[data-testid="waterfall"] g.span rect.bar');
  expect(await bars.count()).toBeGreaterThan(0);
});

it("a metric is drawn as a uPlot chart with every bucket of the window", async () => {
  const url = `${mixer.apiUrl}/metrics?name=fluxrig.gear.messages_in&since=15m&interval=1m&group_by=gear_id`;
  await reloadUntil(page, url, '[data-testid="chart"][data-drawn="true"]');
  const chart = page.locator('[data-testid="chart"]');
  // 15 minutes not aligned to the minute touch 16 one-minute buckets: one point each, gaps included.
  expect(Number(await chart.getAttribute("data-points"))).toBeGreaterThanOrEqual(15);
  expect(Number(await chart.getAttribute("data-points"))).toBeLessThanOrEqual(16);
  expect(Number(await chart.getAttribute("data-series"))).toBeGreaterThan(1);
  // uPlot drew into its canvas: some pixels are not blank.
  const painted = await page.evaluate(() => {
    const canvas = document.querySelector("#chart canvas") as HTMLCanvasElement;
    const pixels = canvas.getContext("2d")?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
    let ink = 0;
    for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] as number) > 0) ink++;
    return ink;
  });
  expect(painted).toBeGreaterThan(100);
  await screenshot(page, "metrics");
});

it("a flux story shows one authorization's hops on a timeline", async () => {
  await page.goto(`${mixer.apiUrl}/logs?entity=${RACK}&level=warn`);
  const story = await page.locator("tbody tr.level-warn a[href^='/flux/']").first().getAttribute("href");
  // The log line and its authorization's journal records reach the store through two consumers, each flushing
  // on its own: the newest line can be stored before its hops (CI of 2026-12-02 00:43 saw "0 hops on 0 racks").
  await reloadUntil(page, `${mixer.apiUrl}${story}`, '[data-testid="hops"] tbody tr');
  expect(await page.locator('[data-testid="flux-summary"]').textContent()).toMatch(/\d+ hops on 1 racks/);
  expect(await page.locator('[data-testid="hops"] tbody tr').count()).toBeGreaterThan(0);
  expect(await page.locator('[data-testid="flux-timeline"] g.hop').count()).toBeGreaterThan(0);
  await screenshot(page, "flux");
});

it("a read token sees everything and no action; a forged cookie is refused", async () => {
  const made = await fluxrigCli(mixer, ["tokens", "create", "--name", "viewer", "--scope", "read"]);
  const token = /fxr_[0-9a-f]{16}_\S{43}/.exec(made.stdout)?.[0];
  expect(token, made.stdout + made.stderr).toBeDefined();
  const viewer = await browser.newContext();
  const reader = await viewer.newPage();
  await signIn(reader, token as string);
  await expect(reader.locator(`tr[data-rack="${RACK}"]`).getAttribute("data-status")).resolves.toBe("active");
  expect(await reader.locator("button[data-action]").count()).toBe(0);
  await reader.goto(`${mixer.apiUrl}/scenarios/visa-auth`);
  expect(await reader.locator('button[data-action="activate"]').count()).toBe(0);
  // Posting anyway (with the session's own CSRF token) is refused by the API's scope check.
  const csrf = await reader.locator('form.who input[name="csrf"]').inputValue();
  const rackId = await reader.evaluate(
    async () => ((await (await fetch("/api/v1/racks")).json()) as { racks: { id: string }[] }).racks[0]?.id,
  );
  const refused = await reader.evaluate(
    async ([id, token]) =>
      (
        await fetch(`/api/v1/racks/${id}/suspend`, {
          method: "POST",
          headers: { "x-fluxrig-csrf": token as string },
        })
      ).status,
    [rackId, csrf],
  );
  expect(refused).toBe(403);
  // Without the CSRF header, even an admin session cannot post through the API.
  const noCsrf = await page.evaluate(
    async (id) => (await fetch(`/api/v1/racks/${id}/suspend`, { method: "POST" })).status,
    rackId,
  );
  expect(noCsrf).toBe(403);
  await viewer.close();

  const forged = await browser.newContext();
  await forged.addCookies([{ name: "fluxrig_session", value: "forged", url: mixer.apiUrl }]);
  const stranger = await forged.newPage();
  await stranger.goto(`${mixer.apiUrl}/`);
  expect(new URL(stranger.url()).pathname).toBe("/signin");
  expect(await stranger.evaluate(async () => (await fetch("/api/v1/racks")).status)).toBe(401);
  await forged.close();
});
