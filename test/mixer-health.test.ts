import { rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogsAnswer } from "../shared/telemetry/query-results.ts";
import { runBin } from "./helpers/run-bin.ts";
import { eventually, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

const MIXER_NAME = "mixer-e2e-01";

interface Health {
  status: string;
  failing: { part: string; last_error: string | null }[];
  store: { failures: number; consecutive_failures: number; last_success_at: string | null };
}

/**
 * The production face of the real local mixer (nats-server + the Worker under wrangler dev): scoped tokens
 * through the `fluxrig tokens` CLI, /health through a real R2 failure and back, and the mixer's own
 * telemetry read back with `fluxrig logs|metrics --entity <base.name>`.
 */
describe("a production mixer: scoped tokens, health through an R2 outage, its own telemetry", {
  timeout: 180_000,
}, () => {
  let mixer: TestMixer;
  const fluxrig = (token: string, ...args: string[]) =>
    runBin("fluxrig", args, {
      env: { FLUXRIG_API_URL: mixer.apiUrl, FLUXRIG_API_TOKEN: token },
      timeoutMs: 60_000,
    });
  const health = async () => {
    const res = await fetch(`${mixer.apiUrl}/health`, { signal: AbortSignal.timeout(20_000) });
    return { code: res.status, body: (await res.json()) as Health };
  };

  beforeAll(async () => {
    mixer = await startTestMixer({
      env: {
        FLUXRIG_INGEST_FLUSH_INTERVAL: "1s",
        FLUXRIG_BASE_NAME: MIXER_NAME,
        FLUXRIG_OBSERVABILITY_ENABLED: "true",
      },
    });
  }, 240_000);
  afterAll(() => mixer?.dispose());

  it("hands out a read token once, which reads but cannot administer, and is refused once revoked", async () => {
    const created = await fluxrig(
      mixer.token,
      "tokens",
      "create",
      "--name",
      "grafana",
      "--scope",
      "read",
      "--expires",
      "90d",
    );
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^fxr_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain("store it now");

    const read = await fluxrig(token, "racks", "list");
    expect(read.code, read.stderr).toBe(0);
    const refused = await fluxrig(token, "tokens", "list");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("403 Forbidden");
    expect(refused.stderr).toContain("needs a token of scope admin; grafana has scope read");

    const list = await fluxrig(mixer.token, "tokens", "list", "-o", "json");
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toContain(token.slice(21));
    expect(JSON.parse(list.stdout).tokens).toContainEqual(
      expect.objectContaining({ name: "grafana", scope: "read", status: "active" }),
    );
    const table = await fluxrig(mixer.token, "tokens", "list");
    expect(table.stdout).toMatch(/^NAME\s+SCOPE\s+STATUS/);

    const revoked = await fluxrig(mixer.token, "tokens", "revoke", "grafana");
    expect(revoked.stdout).toBe("token grafana (scope read) is revoked\n");
    const after = await fluxrig(token, "racks", "list");
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("401 Unauthorized: the token grafana was revoked");
  });

  it("answers degraded (503) naming the store while R2 writes fail for real, and ok again after", async () => {
    // The local R2 keeps object bodies as files under blobs/; a regular file in its place makes every
    // write fail (even as root), as an outage would, and putting the directory back ends it.
    const blobs = join(
      mixer.env.FLUXRIG_STORE_DIR as string,
      "mixer",
      "v3",
      "r2",
      "fluxrig-telemetry",
      "blobs",
    );
    await eventually(
      "a first write of the mixer's own telemetry",
      async () => {
        const { code, body } = await health();
        return code === 200 && body.store.last_success_at && (await stat(blobs).catch(() => undefined))
          ? true
          : undefined;
      },
      60_000,
    );
    await rename(blobs, `${blobs}.away`);
    await writeFile(blobs, "not a directory");
    try {
      const down = await eventually(
        "/health to say degraded",
        async () => {
          await mixer.api("/api/v1/racks"); // something of its own to write
          const answer = await health();
          return answer.code === 503 ? answer.body : undefined;
        },
        60_000,
      );
      expect(down.status).toBe("degraded");
      expect(down.failing).toEqual([
        expect.objectContaining({ part: "store", last_error: expect.any(String) }),
      ]);
      expect(down.store.consecutive_failures).toBeGreaterThan(0);
    } finally {
      await rm(blobs, { force: true });
      await rename(`${blobs}.away`, blobs);
    }
    const up = await eventually(
      "/health to say ok again",
      async () => {
        const answer = await health();
        return answer.code === 200 ? answer.body : undefined;
      },
      60_000,
    );
    expect(up).toMatchObject({ status: "ok", failing: [] });
    expect(up.store.failures).toBeGreaterThan(0);
  });

  it("writes its own logs and metrics as entity base.name, read back with fluxrig logs and metrics", async () => {
    const logs = await eventually(
      "the mixer's own log lines",
      async () => {
        const r = await fluxrig(mixer.token, "logs", "--entity", MIXER_NAME, "--since", "1h", "-o", "json");
        const answer = r.code === 0 ? (JSON.parse(r.stdout) as LogsAnswer) : undefined;
        return answer?.logs.some((l) => l.message === "API token grafana (scope read) created")
          ? answer
          : undefined;
      },
      60_000,
    );
    expect(logs.logs.map((l) => l.message)).toContain("API token grafana (scope read) revoked");
    const metrics = await fluxrig(
      mixer.token,
      "metrics",
      "--entity",
      MIXER_NAME,
      "--name",
      "fluxrig.mixer.api.requests",
      "--since",
      "1h",
      "-o",
      "json",
    );
    expect(metrics.code, metrics.stderr).toBe(0);
    expect(JSON.parse(metrics.stdout).series.length).toBeGreaterThan(0);
    const ingest = await fluxrig(
      mixer.token,
      "metrics",
      "--entity",
      MIXER_NAME,
      "--name",
      "fluxrig.mixer.ingest.records_stored",
      "--since",
      "1h",
      "-o",
      "json",
    );
    expect(JSON.parse(ingest.stdout).series.length).toBeGreaterThan(0);
  });
});
