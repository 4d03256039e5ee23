import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * Two projects: `node` runs unit tests of shared/ and the rack plus integration suites that start real
 * processes (nats-server, wrangler dev); `workers` runs the mixer's tests inside workerd with miniflare's
 * D1, R2 and Durable Objects.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["shared/**/*.test.ts", "rack-agent/**/*.test.ts", "test/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: {
          name: "workers",
          include: ["mixer-worker/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
