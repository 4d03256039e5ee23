import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { exportPrivateJwk, generateKeyPair, SIGNING_ALGORITHM } from "./shared/passport/index.ts";

/** The API token the mixer has in the workers project (tests present it, or a wrong one). */
const WORKERS_TEST_TOKEN = "workers-test-token";
/** The mixer's cluster key and bootstrap token there, fresh per run (a secret binding, as in production). */
const WORKERS_CLUSTER_KEY = JSON.stringify(
  await exportPrivateJwk((await generateKeyPair(SIGNING_ALGORITHM)).privateKey),
);
const WORKERS_BOOTSTRAP_TOKEN = "workers-bootstrap-token";
const migrations = await readD1Migrations("./migrations");

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
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                FLUXRIG_API_TOKEN: WORKERS_TEST_TOKEN,
                FLUXRIG_ENROLLMENT_BOOTSTRAP_TOKEN: WORKERS_BOOTSTRAP_TOKEN,
                MIXER_CLUSTER_KEY: WORKERS_CLUSTER_KEY,
                TEST_MIGRATIONS: migrations,
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["mixer-worker/**/*.test.ts"],
          setupFiles: ["./mixer-worker/test-setup.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
