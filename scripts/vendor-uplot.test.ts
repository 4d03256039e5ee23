import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { VENDORED, vendoredUplot } from "./vendor-uplot.ts";

it("the console serves the uPlot that package.json installs (else: npm run vendor:uplot)", () => {
  expect(readFileSync(VENDORED, "utf8")).toBe(vendoredUplot());
});
