import { consoleClient } from "./client.ts";
import { CONSOLE_CSS } from "./style.ts";
import { UPLOT_CSS, UPLOT_JS } from "./vendor/uplot.generated.ts";

/**
 * The console's static files, all inside the Worker bundle. The client function is served as its source:
 * `__name` is the helper esbuild's keepNames (wrangler's default) may wrap inner functions in.
 */
export const CONSOLE_ASSETS: Record<string, { type: string; body: string }> = {
  "console.js": {
    type: "text/javascript; charset=utf-8",
    body: `"use strict";\nvar __name = (f) => f;\n(${consoleClient.toString()})();\n`,
  },
  "console.css": { type: "text/css; charset=utf-8", body: CONSOLE_CSS },
  "uplot.js": { type: "text/javascript; charset=utf-8", body: UPLOT_JS },
  "uplot.css": { type: "text/css; charset=utf-8", body: UPLOT_CSS },
};
