import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";
import { generateNatsKeys } from "./shared/nats-auth/index.ts";
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
 * The suites under test/ that the `e2e-alone` project runs one at a time, after the two-at-a-time `e2e` files:
 * mixer-stop and rack-outage put tens of thousands of records a second through the mixer and would take the
 * other file's cores (beside one of them a `fluxrig-mixer dev` start in mixer-stop missed its 90 s wait, at
 * load 11); bus-credentials times a JWT's expiry and a revocation, and failed beside another file.
 */
const E2E_ALONE = ["test/mixer-stop.test.ts", "test/rack-outage.test.ts", "test/bus-credentials.test.ts"];
/** What both end-to-end projects share: the migrated registry every test mixer copies, and `fluxrig`. */
const e2eShared = {
  globalSetup: ["./test/helpers/registry-template.ts", "./test/helpers/rack-bin.ts"],
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

/**
 * Four projects: `unit` runs the tests beside the code of shared/ and the rack (a few start a real
 * nats-server); `workers` runs the mixer's tests inside workerd with miniflare's D1, R2 and Durable Objects;
 * `e2e` runs the suites under test/ that start the whole mixer (nats-server + wrangler dev) and real binaries,
 * two files at a time (most of a file's time is waiting: for a mixer's first answer, racks, flushes), then
 * `e2e-alone` the ones in E2E_ALONE one at a time. `npm run test:unit` and `npm run test:e2e`.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["shared/**/*.test.ts", "rack-agent/**/*.test.ts", "scripts/**/*.test.ts"],
          // The `fluxrig` the tests run, built once per run (test/helpers/rack-bin.ts).
          globalSetup: ["./test/helpers/rack-bin.ts"],
          // Tests that run the binaries several times: each start (tsx) took ~10 s at load 25 on 2 cores.
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // expect.poll waits for a flow to get somewhere; vitest's 1 s failed guaranteed-lanes at load 25.
          expect: { poll: { timeout: 10_000 } },
          // Three files at once on 2 cores: they mostly wait (bus outages, binaries starting), so the default of
          // cores less one left the CPU half idle (alone on a quiet machine: 127 s with one worker, 65 s with 3).
          maxWorkers: 3,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...E2E_ALONE],
          ...e2eShared,
          // Mostly waiting too (mixers start one at a time: test-mixer.ts), so three files at once.
          maxWorkers: 3,
          // Its own group, after unit's and workers': a group's projects must share maxWorkers (a bare
          // `vitest run` runs them all).
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          name: "e2e-alone",
          include: E2E_ALONE,
          ...e2eShared,
          // One file at a time, and (as a project without file parallelism) after the other groups.
          fileParallelism: false,
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
                // The bus's keys, as snake.auth = "jwt" (the default) needs them: passports carry bus JWTs.
                MIXER_NATS_KEYS: generateNatsKeys(),
                TEST_MIGRATIONS: migrations,
                // The mixer's own telemetry off: tests here count and list what R2 holds, and the bridge's
                // writes of its own would land among it. health.test.ts turns it on where it looks at it.
                FLUXRIG_OBSERVABILITY_ENABLED: "false",
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["mixer-worker/**/*.test.ts"],
          setupFiles: ["./mixer-worker/test-setup.ts"],
          testTimeout: 30_000,
          // One workerd for all files, one file at a time. The pool starts a workerd per file otherwise, and
          // each file that queries loads DuckDB's 18 MB engine again (the pool hands it to workerd as a JSON
          // array of bytes: ~30 s of CPU each, 12 files). test-setup.ts empties storage before each file.
          isolate: false,
          maxWorkers: 1,
          // Its own group, after unit's files: a group's projects must share maxWorkers, and unit's is 3.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
