import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

/** Where browser tests leave their screenshots (a CI artifact, not committed). */
export const ARTIFACTS = join("test-artifacts", "console");

/** Debian's chromium, headless: no browser is downloaded, ever. */
const EXECUTABLE = process.env.FLUXRIG_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Starts headless Chromium for a test.
 *
 * @example const browser = await startBrowser(); const page = await browser.newPage();
 */
export async function startBrowser(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: EXECUTABLE,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
}

/** Saves a full-page screenshot of `page` as `<name>.png` among the test artifacts. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
